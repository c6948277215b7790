//! [`Opt`]: an optional column value that is sent *unset* when absent.
//!
//! Binding `null` for an absent optional field would write a tombstone for
//! every such column of every row; leaving it unset writes nothing. Unlike
//! the driver's `MaybeUnset`, `Opt` compares and reads like an `Option`.

use scylla::frame::response::result::ColumnType;
use scylla::serialize::value::SerializeValue;
use scylla::serialize::writers::{CellWriter, WrittenCellProof};
use scylla::serialize::SerializationError;

/// An optional column: `Opt(None)` is bound as unset.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Opt<T>(pub Option<T>);

impl<T> From<Option<T>> for Opt<T> {
    fn from(v: Option<T>) -> Self {
        Opt(v)
    }
}

impl<T: SerializeValue> SerializeValue for Opt<T> {
    fn serialize<'b>(
        &self,
        typ: &ColumnType,
        writer: CellWriter<'b>,
    ) -> Result<WrittenCellProof<'b>, SerializationError> {
        match &self.0 {
            Some(v) => v.serialize(typ, writer),
            None => Ok(writer.set_unset()),
        }
    }
}
