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

pub(crate) static COUNTRIES: &[Country] = &[
    Country {
        code: "US",
        utc_offset_minutes: -300,
        cities: &["New York", "San Francisco", "Chicago", "Austin", "Seattle"],
        weight: 30,
    },
    Country {
        code: "GB",
        utc_offset_minutes: 0,
        cities: &["London", "Manchester", "Edinburgh"],
        weight: 8,
    },
    Country {
        code: "DE",
        utc_offset_minutes: 60,
        cities: &["Berlin", "München", "Hamburg", "Köln"],
        weight: 8,
    },
    Country {
        code: "FR",
        utc_offset_minutes: 60,
        cities: &["Paris", "Lyon", "Marseille"],
        weight: 6,
    },
    Country {
        code: "IN",
        utc_offset_minutes: 330,
        cities: &["Bengaluru", "Mumbai", "Delhi"],
        weight: 8,
    },
    Country {
        code: "BR",
        utc_offset_minutes: -180,
        cities: &["São Paulo", "Rio de Janeiro", "Belo Horizonte"],
        weight: 5,
    },
    Country {
        code: "JP",
        utc_offset_minutes: 540,
        cities: &["Tokyo", "Osaka", "Fukuoka"],
        weight: 5,
    },
    Country {
        code: "CA",
        utc_offset_minutes: -300,
        cities: &["Toronto", "Montréal", "Vancouver"],
        weight: 4,
    },
    Country {
        code: "AU",
        utc_offset_minutes: 600,
        cities: &["Sydney", "Melbourne", "Brisbane"],
        weight: 3,
    },
    Country {
        code: "NL",
        utc_offset_minutes: 60,
        cities: &["Amsterdam", "Rotterdam", "Utrecht"],
        weight: 3,
    },
    Country {
        code: "ES",
        utc_offset_minutes: 60,
        cities: &["Madrid", "Barcelona", "València"],
        weight: 3,
    },
    Country {
        code: "SE",
        utc_offset_minutes: 60,
        cities: &["Stockholm", "Göteborg", "Malmö"],
        weight: 2,
    },
    Country {
        code: "PL",
        utc_offset_minutes: 60,
        cities: &["Warszawa", "Kraków", "Wrocław"],
        weight: 2,
    },
    Country {
        code: "MX",
        utc_offset_minutes: -360,
        cities: &["Ciudad de México", "Guadalajara", "Monterrey"],
        weight: 3,
    },
    Country {
        code: "KR",
        utc_offset_minutes: 540,
        cities: &["Seoul", "Busan"],
        weight: 2,
    },
    Country {
        code: "SG",
        utc_offset_minutes: 480,
        cities: &["Singapore"],
        weight: 2,
    },
    Country {
        code: "ZA",
        utc_offset_minutes: 120,
        cities: &["Johannesburg", "Cape Town"],
        weight: 2,
    },
    Country {
        code: "NG",
        utc_offset_minutes: 60,
        cities: &["Lagos", "Abuja"],
        weight: 2,
    },
    Country {
        code: "TR",
        utc_offset_minutes: 180,
        cities: &["İstanbul", "Ankara"],
        weight: 2,
    },
    Country {
        code: "EG",
        utc_offset_minutes: 120,
        cities: &["Cairo", "Alexandria"],
        weight: 2,
    },
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

pub(crate) static DEVICES: &[DeviceProfile] = &[
    DeviceProfile {
        device_type: "desktop",
        os: "Windows 11",
        browser: "Chrome",
        user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        weight: 22,
    },
    DeviceProfile {
        device_type: "desktop",
        os: "Windows 10",
        browser: "Edge",
        user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.51",
        weight: 8,
    },
    DeviceProfile {
        device_type: "desktop",
        os: "Windows 11",
        browser: "Firefox",
        user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
        weight: 5,
    },
    DeviceProfile {
        device_type: "desktop",
        os: "macOS 15",
        browser: "Safari",
        user_agent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
        weight: 7,
    },
    DeviceProfile {
        device_type: "desktop",
        os: "macOS 14",
        browser: "Chrome",
        user_agent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        weight: 6,
    },
    DeviceProfile {
        device_type: "desktop",
        os: "Ubuntu 24.04",
        browser: "Firefox",
        user_agent: "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        weight: 2,
    },
    DeviceProfile {
        device_type: "mobile",
        os: "iOS 18.1",
        browser: "Mobile Safari",
        user_agent: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        weight: 18,
    },
    DeviceProfile {
        device_type: "mobile",
        os: "Android 14",
        browser: "Chrome Mobile",
        user_agent: "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36",
        weight: 12,
    },
    DeviceProfile {
        device_type: "mobile",
        os: "Android 14",
        browser: "Samsung Internet",
        user_agent: "Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
        weight: 5,
    },
    DeviceProfile {
        device_type: "mobile",
        os: "iOS 18.1",
        browser: "ShopApp",
        user_agent: "ShopApp/5.12.0 (iPhone15,2; iOS 18.1; Scale/3.00)",
        weight: 6,
    },
    DeviceProfile {
        device_type: "tablet",
        os: "iPadOS 17.7",
        browser: "Mobile Safari",
        user_agent: "Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.7 Mobile/15E148 Safari/604.1",
        weight: 4,
    },
    DeviceProfile {
        device_type: "tablet",
        os: "Android 13",
        browser: "Chrome",
        user_agent: "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        weight: 2,
    },
    DeviceProfile {
        device_type: "other",
        os: "Tizen 8.0",
        browser: "Samsung Internet TV",
        user_agent: "Mozilla/5.0 (SMART-TV; Linux; Tizen 8.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/7.0 Chrome/108.0.5359.1 TV Safari/537.36",
        weight: 1,
    },
    DeviceProfile {
        device_type: "other",
        os: "Linux",
        browser: "python-requests",
        user_agent: "python-requests/2.32.3",
        weight: 1,
    },
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
