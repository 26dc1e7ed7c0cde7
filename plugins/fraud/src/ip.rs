//! IP ranges an admin maps to countries (`CIDR=COUNTRY`), because the host
//! gives plugins no geo-IP database.

use std::net::IpAddr;

/// One `CIDR=COUNTRY` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IpRange {
    net: IpAddr,
    prefix: u8,
    country: String,
}

/// Parse the entries; the malformed ones are returned apart (to log).
pub(crate) fn parse_ranges(entries: &[String]) -> (Vec<IpRange>, Vec<String>) {
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for e in entries {
        match parse(e) {
            Some(r) => ok.push(r),
            None => bad.push(e.clone()),
        }
    }
    (ok, bad)
}

fn parse(entry: &str) -> Option<IpRange> {
    let (cidr, country) = entry.split_once('=')?;
    let country = country.trim().to_ascii_uppercase();
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let (net, prefix) = match cidr.trim().split_once('/') {
        Some((net, p)) => (net.parse::<IpAddr>().ok()?, p.parse::<u8>().ok()?),
        None => {
            let net = cidr.trim().parse::<IpAddr>().ok()?;
            (net, if net.is_ipv4() { 32 } else { 128 })
        }
    };
    let max = if net.is_ipv4() { 32 } else { 128 };
    (prefix <= max).then_some(IpRange {
        net,
        prefix,
        country,
    })
}

fn bits(ip: IpAddr) -> (u128, u8) {
    match ip {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
        IpAddr::V6(v6) => (u128::from(v6), 128),
    }
}

impl IpRange {
    fn contains(&self, ip: IpAddr) -> bool {
        let (net, width) = bits(self.net);
        let (addr, addr_width) = bits(ip);
        if width != addr_width {
            return false;
        }
        let shift = u32::from(width - self.prefix);
        // A /0 matches everything; shifting by the full width would overflow.
        shift >= u32::from(width) || (net >> shift) == (addr >> shift)
    }
}

/// The country of `ip` by the most specific range containing it.
pub(crate) fn country_of<'a>(ip: &str, ranges: &'a [IpRange]) -> Option<&'a str> {
    let ip: IpAddr = ip.trim().parse().ok()?;
    ranges
        .iter()
        .filter(|r| r.contains(ip))
        .max_by_key(|r| r.prefix)
        .map(|r| r.country.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges(e: &[&str]) -> (Vec<IpRange>, Vec<String>) {
        parse_ranges(&e.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn most_specific_range_wins() {
        let (r, bad) = ranges(&[
            "203.0.113.0/24=gb",
            "203.0.113.128/25=NG",
            "2001:db8::/32=US",
            "0.0.0.0/0=DE",
        ]);
        assert!(bad.is_empty());
        assert_eq!(country_of("203.0.113.9", &r), Some("GB"));
        assert_eq!(country_of("203.0.113.200", &r), Some("NG"));
        assert_eq!(country_of("2001:db8::1", &r), Some("US"));
        assert_eq!(country_of("198.51.100.1", &r), Some("DE"), "the catch-all");
        assert_eq!(country_of("2001:db9::1", &r), None);
        assert_eq!(country_of("not an ip", &r), None);
    }

    #[test]
    fn malformed_entries_are_set_apart() {
        let (r, bad) = ranges(&[
            "203.0.113.0/33=GB",
            "203.0.113.0/24",
            "203.0.113.0/24=GBR",
            "x/8=GB",
            "192.0.2.7=FR",
        ]);
        assert_eq!(bad.len(), 4);
        assert_eq!(country_of("192.0.2.7", &r), Some("FR"));
        assert_eq!(country_of("192.0.2.8", &r), None);
    }
}
