//! The simulated users behind the logs.
//!
//! Each user lives somewhere, owns a device, logs in (sometimes failing,
//! sometimes through an MFA challenge), refreshes tokens and logs out; starts
//! sessions that send heartbeats and end with a duration and a page count;
//! and browses, searches, fills a cart, checks out and buys inside them. A
//! simulated clock advances a few milliseconds a record, so timestamps rise
//! the way a live system's do. Every draw comes from one seeded generator,
//! so a seed always gives the same users and the same story.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use logpipe_contract::topics::LogKind;
use rand::distr::weighted::WeightedIndex;
use rand::distr::Distribution;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

use crate::catalog::{
    CATEGORIES, CLICK_TARGETS, COUNTRIES, CURRENCIES, DEVICES, FAILURE_REASONS, LOGIN_METHODS,
    PAGES, PRODUCTS, SEARCH_TERMS,
};
use crate::logs::{ActivityLog, AuthLog, Device, Geo, Id, Ip, Log, Metadata, Scalar, SessionLog};
use crate::time::{TimeStyle, Timestamp};

/// A session this old is over, whether or not its end was logged.
const SESSION_EXPIRY_MS: i64 = 4 * 3_600_000;

/// The simulated population and its clock.
pub(crate) struct World {
    rng: ChaCha8Rng,
    users: Vec<User>,
    /// The users active right now; users come and go.
    online: Vec<usize>,
    clock_ms: i64,
    login_methods: WeightedIndex<u32>,
}

struct User {
    id: String,
    country: usize,
    city: usize,
    device: usize,
    ip: IpAddr,
    login_method: &'static str,
    mfa: bool,
    auth: AuthState,
    session: Option<Session>,
    cart_items: u32,
    checking_out: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum AuthState {
    LoggedOut,
    MfaPending,
    LoggedIn,
}

struct Session {
    id: Uuid,
    started_ms: i64,
    /// Whether its `session_start` has been logged yet (activity can open a
    /// session before the session topic hears of it).
    announced: bool,
    pages: u32,
    heartbeats: u32,
}

impl Session {
    /// A user's session at `now_ms`, kept in `slot`: the open one, or a new
    /// one with id `new_id` when there is none or the open one has expired
    /// unseen (the user came back after a long time away).
    fn at(slot: &mut Option<Session>, now_ms: i64, new_id: Uuid) -> &mut Session {
        if slot
            .as_ref()
            .is_some_and(|s| now_ms - s.started_ms > SESSION_EXPIRY_MS)
        {
            *slot = None;
        }
        slot.get_or_insert(Session {
            id: new_id,
            started_ms: now_ms,
            announced: false,
            pages: 0,
            heartbeats: 0,
        })
    }
}

impl World {
    /// `users` simulated users (at least one), the clock starting at
    /// `start_ms`.
    pub fn new(seed: u64, users: usize, start_ms: i64) -> World {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let countries = weighted(COUNTRIES.iter().map(|c| c.weight));
        let devices = weighted(DEVICES.iter().map(|d| d.weight));
        let login_methods = weighted(LOGIN_METHODS.iter().map(|m| m.1));
        let users: Vec<User> = (0..users.max(1))
            .map(|n| {
                let country = countries.sample(&mut rng);
                User {
                    id: user_id(&mut rng, n),
                    country,
                    city: rng.random_range(0..COUNTRIES[country].cities.len()),
                    device: devices.sample(&mut rng),
                    ip: ip_address(&mut rng),
                    login_method: LOGIN_METHODS[login_methods.sample(&mut rng)].0,
                    mfa: rng.random_bool(0.2),
                    auth: AuthState::LoggedOut,
                    session: None,
                    cart_items: 0,
                    checking_out: false,
                }
            })
            .collect();
        let online_count = (users.len() / 20).clamp(1, 500).min(users.len());
        let online = (0..online_count)
            .map(|_| rng.random_range(0..users.len()))
            .collect();
        World {
            rng,
            users,
            online,
            clock_ms: start_ms,
            login_methods,
        }
    }

    /// The next log of `kind`, from some user, a few milliseconds after the
    /// previous one.
    pub fn next_log(&mut self, kind: LogKind) -> Log<'_> {
        self.clock_ms += self.rng.random_range(0..=20);
        let u = self.pick_user();
        match kind {
            LogKind::Auth => Log::Auth(self.auth(u)),
            LogKind::Session => Log::Session(self.session(u)),
            LogKind::Activity => Log::Activity(self.activity(u)),
        }
    }

    /// The simulated time, epoch milliseconds.
    pub fn now_ms(&self) -> i64 {
        self.clock_ms
    }

    /// One of the users online; now and then one leaves and another
    /// comes.
    fn pick_user(&mut self) -> usize {
        if self.rng.random_bool(0.01) {
            let slot = self.rng.random_range(0..self.online.len());
            self.online[slot] = self.rng.random_range(0..self.users.len());
        }
        self.online[self.rng.random_range(0..self.online.len())]
    }

    fn timestamp(&mut self, country: usize) -> Timestamp {
        let style = match self.rng.random_range(0..100) {
            0..80 => TimeStyle::Millis,
            80..87 => TimeStyle::Offset(COUNTRIES[country].utc_offset_minutes),
            87..93 => TimeStyle::EpochMillis,
            93..97 => TimeStyle::Micros(self.rng.random_range(0..1000)),
            _ => TimeStyle::Seconds,
        };
        Timestamp {
            ms: self.clock_ms,
            style,
        }
    }

    fn auth(&mut self, u: usize) -> AuthLog<'_> {
        let timestamp = self.timestamp(self.users[u].country);
        let roll: f64 = self.rng.random();
        if self.users[u].auth != AuthState::LoggedIn && self.rng.random_bool(0.1) {
            // Users on the move show up from a new address.
            self.users[u].ip = ip_address(&mut self.rng);
        }
        let user = &self.users[u];
        let (event_type, success, auth_method, failure_reason, next) = match user.auth {
            AuthState::LoggedOut if roll < 0.12 => {
                let reason = FAILURE_REASONS[self.rng.random_range(0..FAILURE_REASONS.len())];
                (
                    "login_failed",
                    false,
                    Some(user.login_method),
                    Some(reason),
                    AuthState::LoggedOut,
                )
            }
            AuthState::LoggedOut if roll < 0.15 => {
                ("password_reset", true, None, None, AuthState::LoggedOut)
            }
            AuthState::LoggedOut if user.mfa => {
                if self.rng.random_bool(0.93) {
                    (
                        "mfa_challenge",
                        true,
                        Some("mfa"),
                        None,
                        AuthState::MfaPending,
                    )
                } else {
                    let reason = "mfa_code_invalid";
                    (
                        "mfa_challenge",
                        false,
                        Some("mfa"),
                        Some(reason),
                        AuthState::LoggedOut,
                    )
                }
            }
            AuthState::LoggedOut => (
                "login",
                true,
                Some(user.login_method),
                None,
                AuthState::LoggedIn,
            ),
            AuthState::MfaPending => ("login", true, Some("mfa"), None, AuthState::LoggedIn),
            AuthState::LoggedIn if roll < 0.55 => {
                let method = match user.login_method {
                    "api_key" => "api_key",
                    _ => "oauth",
                };
                if self.rng.random_bool(0.97) {
                    (
                        "token_refresh",
                        true,
                        Some(method),
                        None,
                        AuthState::LoggedIn,
                    )
                } else {
                    let reason = "refresh_token_expired";
                    (
                        "token_refresh",
                        false,
                        Some(method),
                        Some(reason),
                        AuthState::LoggedOut,
                    )
                }
            }
            AuthState::LoggedIn if roll < 0.9 => ("logout", true, None, None, AuthState::LoggedOut),
            AuthState::LoggedIn => {
                // A second login from another tab or device.
                let m = LOGIN_METHODS[self.login_methods.sample(&mut self.rng)].0;
                ("login", true, Some(m), None, AuthState::LoggedIn)
            }
        };
        let with_agent = self.rng.random_bool(0.92);
        let with_geo = self.rng.random_bool(0.88);
        let with_city = self.rng.random_bool(0.9);
        let event_id = self.uuid();
        let user = &mut self.users[u];
        user.auth = next;
        let country = &COUNTRIES[user.country];
        AuthLog {
            event_id: Id(event_id),
            user_id: &user.id,
            timestamp,
            event_type,
            success,
            ip_address: Ip(user.ip),
            auth_method,
            failure_reason,
            user_agent: with_agent.then_some(DEVICES[user.device].user_agent),
            geo: with_geo.then(|| Geo {
                country: country.code,
                city: with_city.then_some(country.cities[user.city]),
            }),
        }
    }

    fn session(&mut self, u: usize) -> SessionLog<'_> {
        let timestamp = self.timestamp(self.users[u].country);
        let now = self.clock_ms;
        let new_id = self.uuid();
        let ending = self.rng.random_bool(0.22);
        let with_device = self.rng.random_bool(0.95);
        let with_duration = self.rng.random_bool(0.6);
        let user = &mut self.users[u];
        let session = Session::at(&mut user.session, now, new_id);
        let id = Id(session.id);
        let elapsed = (now - session.started_ms).max(0) as u64;
        let device = &DEVICES[user.device];
        let mut log = SessionLog {
            session_id: id,
            user_id: "",
            timestamp,
            event_type: "heartbeat",
            ip_address: None,
            device: None,
            duration_ms: None,
            pages_viewed: None,
        };
        if !session.announced {
            session.announced = true;
            log.event_type = "session_start";
            log.ip_address = Some(Ip(user.ip));
            log.device = with_device.then_some(Device {
                device_type: device.device_type,
                os: device.os,
                browser: device.browser,
            });
        } else if ending || session.heartbeats >= 40 {
            log.event_type = "session_end";
            log.duration_ms = Some(elapsed);
            log.pages_viewed = Some(session.pages);
            user.session = None;
            user.cart_items = 0;
            user.checking_out = false;
        } else {
            session.heartbeats += 1;
            log.duration_ms = with_duration.then_some(elapsed);
            log.pages_viewed = Some(session.pages);
        }
        log.user_id = &user.id;
        log
    }

    fn activity(&mut self, u: usize) -> ActivityLog<'_> {
        let timestamp = self.timestamp(self.users[u].country);
        let now = self.clock_ms;
        let event_id = self.uuid();
        let new_session = self.uuid();
        // Most activity happens inside a session; some (API clients, pages
        // served before the session cookie) carries none.
        let in_session = self.rng.random_bool(0.9);
        let rng = &mut self.rng;
        let user = &mut self.users[u];
        let session = if in_session {
            Some(Session::at(&mut user.session, now, new_session))
        } else {
            None
        };
        let session_id = session.as_ref().map(|s| Id(s.id));

        let mut weights = [40u32, 18, 14, 10, 3, 0, 0];
        if user.cart_items > 0 {
            weights[5] = 8;
        } else {
            weights[4] = 0;
        }
        if user.checking_out {
            weights[6] = 12;
        }
        let pick = weighted_pick(rng, &weights);
        let product = rng.random_range(1..=PRODUCTS);
        let currency = CURRENCIES[rng.random_range(0..CURRENCIES.len())];
        let mut metadata = Metadata::default();
        let mut duration_ms = None;
        let (action, resource) = match pick {
            0 => {
                if let Some(s) = session {
                    s.pages += 1;
                }
                if rng.random_bool(0.8) {
                    duration_ms = Some(rng.random_range(300..180_000));
                }
                let resource = match rng.random_range(0..100) {
                    0..55 => {
                        metadata.push("product_id", Scalar::Text(product.to_string().into()));
                        format!("/products/{product}")
                    }
                    55..80 => {
                        let cat = CATEGORIES[rng.random_range(0..CATEGORIES.len())];
                        metadata.push("category", Scalar::Text(cat.into()));
                        if rng.random_bool(0.3) {
                            format!("/categories/{cat}?page={}", rng.random_range(2..10))
                        } else {
                            format!("/categories/{cat}")
                        }
                    }
                    _ => PAGES[rng.random_range(0..PAGES.len())].to_owned(),
                };
                if rng.random_bool(0.3) {
                    let referrer = [
                        "https://www.google.com/",
                        "https://t.co/",
                        "direct",
                        "email",
                    ][rng.random_range(0..4)];
                    metadata.push("referrer", Scalar::Text(referrer.into()));
                }
                ("page_view", resource)
            }
            1 => {
                let target = CLICK_TARGETS[rng.random_range(0..CLICK_TARGETS.len())];
                metadata.push(
                    "element",
                    Scalar::Text(target.trim_start_matches('#').into()),
                );
                metadata.push("position", Scalar::Int(rng.random_range(1..25)));
                ("click", format!("/products/{product}{target}"))
            }
            2 => {
                let term = SEARCH_TERMS[rng.random_range(0..SEARCH_TERMS.len())];
                metadata.push("query", Scalar::Text(term.into()));
                metadata.push("results", Scalar::Int(rng.random_range(0..500)));
                if rng.random_bool(0.2) {
                    metadata.push("spellcheck", Scalar::Flag(true));
                }
                ("search", format!("/search?q={}", url_query(term)))
            }
            3 => {
                user.cart_items += 1;
                let quantity = rng.random_range(1..4);
                metadata.push("product_id", Scalar::Text(product.to_string().into()));
                metadata.push("quantity", Scalar::Int(quantity));
                metadata.push("price", Scalar::Decimal(price(rng)));
                metadata.push("currency", Scalar::Text(currency.into()));
                ("add_to_cart", format!("/products/{product}"))
            }
            4 => {
                user.cart_items = user.cart_items.saturating_sub(1);
                metadata.push("product_id", Scalar::Text(product.to_string().into()));
                metadata.push("quantity", Scalar::Int(1));
                ("remove_from_cart", "/cart".to_owned())
            }
            5 => {
                user.checking_out = true;
                metadata.push("items", Scalar::Int(i64::from(user.cart_items)));
                metadata.push(
                    "total",
                    Scalar::Decimal(price(rng) * f64::from(user.cart_items.max(1))),
                );
                metadata.push("currency", Scalar::Text(currency.into()));
                duration_ms = Some(rng.random_range(5_000..600_000));
                ("checkout", "/checkout".to_owned())
            }
            _ => {
                let order = format!("ORD-{:08}", rng.random_range(0..100_000_000u32));
                metadata.push("order_id", Scalar::Text(order.clone().into()));
                metadata.push("items", Scalar::Int(i64::from(user.cart_items.max(1))));
                metadata.push(
                    "total",
                    Scalar::Decimal(price(rng) * f64::from(user.cart_items.max(1))),
                );
                metadata.push("currency", Scalar::Text(currency.into()));
                let method =
                    ["card", "card", "paypal", "apple_pay", "gift_card"][rng.random_range(0..5)];
                metadata.push("payment_method", Scalar::Text(method.into()));
                metadata.push("first_order", Scalar::Flag(rng.random_bool(0.1)));
                user.cart_items = 0;
                user.checking_out = false;
                ("purchase", format!("/orders/{order}"))
            }
        };
        if metadata.is_empty() && rng.random_bool(0.5) {
            metadata.push(
                "ab_test",
                Scalar::Text(["control", "variant_a", "variant_b"][rng.random_range(0..3)].into()),
            );
        }
        ActivityLog {
            event_id: Id(event_id),
            user_id: &user.id,
            session_id,
            timestamp,
            action,
            resource,
            duration_ms,
            metadata,
        }
    }

    /// A random (version 4) UUID from the world's generator.
    pub fn uuid(&mut self) -> Uuid {
        uuid::Builder::from_random_bytes(self.rng.random()).into_uuid()
    }
}

fn weighted(weights: impl Iterator<Item = u32>) -> WeightedIndex<u32> {
    WeightedIndex::new(weights).expect("catalogue weights are positive")
}

fn weighted_pick(rng: &mut ChaCha8Rng, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let mut roll = rng.random_range(0..total);
    for (i, w) in weights.iter().enumerate() {
        if roll < *w {
            return i;
        }
        roll -= w;
    }
    weights.len() - 1
}

/// A price in the currency's units, to the cent.
fn price(rng: &mut ChaCha8Rng) -> f64 {
    f64::from(rng.random_range(199..50_000u32)) / 100.0
}

/// Form-encodes a search term for a URL query.
fn url_query(term: &str) -> String {
    let mut out = String::with_capacity(term.len() * 3);
    for b in term.bytes() {
        match b {
            b' ' => out.push('+'),
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn user_id(rng: &mut ChaCha8Rng, n: usize) -> String {
    const FIRST: &[&str] = &[
        "ana", "ben", "chloe", "david", "emma", "farid", "grace", "hiro", "ines", "jonas", "kofi",
        "lena", "mateo", "nora", "olu", "priya",
    ];
    const LAST: &[&str] = &[
        "silva",
        "smith",
        "nguyen",
        "muller",
        "garcia",
        "kim",
        "okafor",
        "rossi",
        "sato",
        "kowalski",
        "haddad",
        "johansson",
    ];
    match rng.random_range(0..10) {
        0..7 => format!("user_{n:06}"),
        7..9 => format!(
            "{}.{}{}@example.com",
            FIRST[rng.random_range(0..FIRST.len())],
            LAST[rng.random_range(0..LAST.len())],
            n
        ),
        _ => uuid::Builder::from_random_bytes(rng.random())
            .into_uuid()
            .hyphenated()
            .to_string(),
    }
}

/// A public-looking address: IPv4 mostly, IPv6 one time in ten.
fn ip_address(rng: &mut ChaCha8Rng) -> IpAddr {
    const V4_FIRST: &[u8] = &[
        23, 31, 37, 45, 62, 73, 81, 89, 98, 104, 151, 176, 185, 188, 203, 212, 217,
    ];
    const V6_PREFIX: &[u16] = &[0x2a02, 0x2600, 0x2a01, 0x2001, 0x2406, 0x2804];
    if rng.random_bool(0.9) {
        IpAddr::V4(Ipv4Addr::new(
            V4_FIRST[rng.random_range(0..V4_FIRST.len())],
            rng.random(),
            rng.random(),
            rng.random_range(1..255),
        ))
    } else {
        let mut seg = [0u16; 8];
        seg[0] = V6_PREFIX[rng.random_range(0..V6_PREFIX.len())];
        for s in seg.iter_mut().skip(1).take(3) {
            *s = rng.random();
        }
        // Interface identifiers are often short (SLAAC privacy addresses are
        // not, but static ones are): both shapes appear.
        if rng.random_bool(0.5) {
            for s in seg.iter_mut().skip(4) {
                *s = rng.random();
            }
        } else {
            seg[7] = rng.random_range(1..0x100);
        }
        IpAddr::V6(Ipv6Addr::from(seg))
    }
}
