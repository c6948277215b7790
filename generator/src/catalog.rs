//! The reference data simulated users are drawn from: places, devices and
//! their user agents, products, search terms, failure reasons.
//!
//! Everything here is plain static data; [`crate::world`] decides how often
//! each entry is used.

/// A country, its UTC offset in minutes (standard time, used when a producer
/// writes local time with an offset) and cities users live in.
pub(crate) struct Country {
    pub code: &'static str,
    pub utc_offset_minutes: i16,
    pub cities: &'static [&'static str],
    /// Relative share of users.
    pub weight: u32,
}

/// A row of [`COUNTRIES`].
const fn country(
    code: &'static str,
    utc_offset_minutes: i16,
    weight: u32,
    cities: &'static [&'static str],
) -> Country {
    Country {
        code,
        utc_offset_minutes,
        cities,
        weight,
    }
}

#[rustfmt::skip]
pub(crate) static COUNTRIES: &[Country] = &[
    // country(code, UTC offset in minutes, share of users, cities)
    country("US", -300, 30, &["New York", "San Francisco", "Chicago", "Austin", "Seattle"]),
    country("GB", 0,    8,  &["London", "Manchester", "Edinburgh"]),
    country("DE", 60,   8,  &["Berlin", "München", "Hamburg", "Köln"]),
    country("FR", 60,   6,  &["Paris", "Lyon", "Marseille"]),
    country("IN", 330,  8,  &["Bengaluru", "Mumbai", "Delhi"]),
    country("BR", -180, 5,  &["São Paulo", "Rio de Janeiro", "Belo Horizonte"]),
    country("JP", 540,  5,  &["Tokyo", "Osaka", "Fukuoka"]),
    country("CA", -300, 4,  &["Toronto", "Montréal", "Vancouver"]),
    country("AU", 600,  3,  &["Sydney", "Melbourne", "Brisbane"]),
    country("NL", 60,   3,  &["Amsterdam", "Rotterdam", "Utrecht"]),
    country("ES", 60,   3,  &["Madrid", "Barcelona", "València"]),
    country("SE", 60,   2,  &["Stockholm", "Göteborg", "Malmö"]),
    country("PL", 60,   2,  &["Warszawa", "Kraków", "Wrocław"]),
    country("MX", -360, 3,  &["Ciudad de México", "Guadalajara", "Monterrey"]),
    country("KR", 540,  2,  &["Seoul", "Busan"]),
    country("SG", 480,  2,  &["Singapore"]),
    country("ZA", 120,  2,  &["Johannesburg", "Cape Town"]),
    country("NG", 60,   2,  &["Lagos", "Abuja"]),
    country("TR", 180,  2,  &["İstanbul", "Ankara"]),
    country("EG", 120,  2,  &["Cairo", "Alexandria"]),
];

/// A kind of client a user logs in from: the device fields of a session log
/// and the user agent of an auth log, kept consistent with each other.
pub(crate) struct DeviceProfile {
    pub device_type: &'static str,
    pub os: &'static str,
    pub browser: &'static str,
    pub user_agent: &'static str,
    pub weight: u32,
}

/// A row of [`DEVICES`].
const fn device(
    device_type: &'static str,
    os: &'static str,
    browser: &'static str,
    weight: u32,
    user_agent: &'static str,
) -> DeviceProfile {
    DeviceProfile {
        device_type,
        os,
        browser,
        user_agent,
        weight,
    }
}

#[rustfmt::skip]
pub(crate) static DEVICES: &[DeviceProfile] = &[
    // device(device type, os, browser, share of users, user agent)
    device("desktop",  "Windows 11",   "Chrome",              22, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"),
    device("desktop",  "Windows 10",   "Edge",                8,  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.51"),
    device("desktop",  "Windows 11",   "Firefox",             5,  "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"),
    device("desktop",  "macOS 15",     "Safari",              7,  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15"),
    device("desktop",  "macOS 14",     "Chrome",              6,  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"),
    device("desktop",  "Ubuntu 24.04", "Firefox",             2,  "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"),
    device("mobile",   "iOS 18.1",     "Mobile Safari",       18, "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"),
    device("mobile",   "Android 14",   "Chrome Mobile",       12, "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36"),
    device("mobile",   "Android 14",   "Samsung Internet",    5,  "Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36"),
    device("mobile",   "iOS 18.1",     "ShopApp",             6,  "ShopApp/5.12.0 (iPhone15,2; iOS 18.1; Scale/3.00)"),
    device("tablet",   "iPadOS 17.7",  "Mobile Safari",       4,  "Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.7 Mobile/15E148 Safari/604.1"),
    device("tablet",   "Android 13",   "Chrome",              2,  "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"),
    device("other",    "Tizen 8.0",    "Samsung Internet TV", 1,  "Mozilla/5.0 (SMART-TV; Linux; Tizen 8.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/7.0 Chrome/108.0.5359.1 TV Safari/537.36"),
    device("other",    "Linux",        "python-requests",     1,  "python-requests/2.32.3"),
];

/// Auth methods of a user's normal login, with weights.
pub(crate) static LOGIN_METHODS: &[(&str, u32)] =
    &[("password", 55), ("oauth", 25), ("sso", 15), ("api_key", 5)];

/// What a failed login says went wrong.
pub(crate) static FAILURE_REASONS: &[&str] = &[
    "invalid_password",
    "invalid_password",
    "invalid_password",
    "unknown_user",
    "account_locked",
    "mfa_code_expired",
    "password_expired",
    "too_many_attempts",
    "Invalid username or password",
    "IP address blocked by policy",
];

/// Catalogue sections browsed by users.
pub(crate) static CATEGORIES: &[&str] = &[
    "electronics",
    "books",
    "home-garden",
    "fashion",
    "sports-outdoors",
    "toys-games",
    "beauty",
    "grocery",
];

/// Search queries, as typed.
pub(crate) static SEARCH_TERMS: &[&str] = &[
    "running shoes",
    "wireless headphones",
    "usb-c cable",
    "coffee grinder",
    "yoga mat",
    "winter jacket",
    "lego",
    "air fryer",
    "4k monitor",
    "standing desk",
    "crème brûlée torch",
    "gift card",
];

/// Pages that are not a product or a category.
pub(crate) static PAGES: &[&str] = &["/", "/deals", "/account", "/orders", "/help", "/wishlist"];

/// Things a user clicks on a page.
pub(crate) static CLICK_TARGETS: &[&str] = &[
    "#reviews",
    "#specifications",
    "#add-to-wishlist",
    "#size-guide",
    "#related-products",
    "#share",
];

/// Three-letter currency codes by how often they are paid with.
pub(crate) static CURRENCIES: &[&str] = &["USD", "USD", "EUR", "EUR", "GBP", "JPY", "BRL", "INR"];

/// Highest product number in the simulated catalogue.
pub(crate) const PRODUCTS: u32 = 5_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_is_well_formed() {
        for c in COUNTRIES {
            assert_eq!(c.code.len(), 2);
            assert!(c.code.bytes().all(|b| b.is_ascii_uppercase()));
            assert!(!c.cities.is_empty());
        }
        for d in DEVICES {
            assert!(["desktop", "mobile", "tablet", "other"].contains(&d.device_type));
            assert!(d.user_agent.len() <= 512);
        }
    }
}
