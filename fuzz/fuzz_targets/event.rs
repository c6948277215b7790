//! Any bytes as a whole invocation payload. Each input either is refused
//! with an error that says what is wrong, or every record of the event ends
//! as exactly one row or one dead letter (with a known reason code). The
//! handler's borrowed decoder and `aws_lambda_events`' owned one must agree
//! on which, and on the outcome of each record.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logpipe_core::batch::{process_event, process_payload};
use logpipe_core::event::decode_event;
use logpipe_fuzz::{check_batch, router};

fuzz_target!(|data: &[u8]| {
    let router = router();
    let owned = decode_event(data).and_then(|event| {
        let places = logpipe_fuzz::places(&event)?;
        Ok((places, process_event(&router, &event)?))
    });
    let borrowed = process_payload(&router, data);
    match (owned, borrowed) {
        (Ok((places, a)), Ok(b)) => {
            check_batch(&places, &a);
            check_batch(&places, &b);
            assert_eq!(a.summary(), b.summary(), "the two decoders' batches differ");
            assert_eq!(
                a.reasons, b.reasons,
                "the two decoders' dead letters differ"
            );
        }
        (Err(a), Err(b)) => {
            let (a, b) = (a.to_string(), b.to_string());
            assert!(
                a.starts_with("not a Kafka event")
                    || a.starts_with("record at")
                    || a.starts_with("records key"),
                "{a}"
            );
            assert_eq!(a, b, "the two decoders refuse differently");
        }
        (a, b) => panic!(
            "one decoder accepts, the other refuses: owned {:?}, borrowed {:?}",
            a.map(|(_, b)| b.summary()),
            b.map(|b| b.summary())
        ),
    }
});
