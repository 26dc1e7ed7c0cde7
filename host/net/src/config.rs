//! Value types of configuration files, checked while they are read: a
//! malformed value is a deserialisation error (which the TOML reader places
//! at its line), never a panic and never a silently wrong default.
//!
//! - [`HumanDuration`]: `250ms`, `30s`, `5m`, `24h`, `2d`, the one way
//!   durations are written.
//! - [`ByteSize`]: `1048576`, or `"1MiB"`, `"64KiB"`, `"2GiB"`.
//! - [`Count`]: an integer within bounds (`NonZeroCount`: at least 1).
//! - [`SecretSource`]: where a secret comes from (`<name>-env`,
//!   `<name>-file`, or `<name>` inline), resolved into a [`Secret`].
//! - [`RenamedDuration`]: an old integer key with its unit in its name
//!   (`request-timeout-ms = 30000`) still read beside its duration
//!   successor (`request-timeout = "30s"`), with a warning.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};

use crate::Secret;

/// What a duration looks like, for messages.
const DURATION_SYNTAX: &str = "a duration like 250ms, 30s, 5m, 24h or 2d";

/// A duration as written in configuration: a whole number and one unit,
/// `ms`, `s`, `m`, `h` or `d` (`250ms`, `30s`, `5m`, `24h`, `2d`).
/// Displayed in its largest exact unit, so it reads back the same.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HumanDuration(Duration);

impl HumanDuration {
    /// Zero.
    pub const ZERO: HumanDuration = HumanDuration(Duration::ZERO);

    /// From milliseconds.
    pub const fn from_millis(ms: u64) -> HumanDuration {
        HumanDuration(Duration::from_millis(ms))
    }

    /// From seconds.
    pub const fn from_secs(secs: u64) -> HumanDuration {
        HumanDuration(Duration::from_secs(secs))
    }

    /// The duration.
    pub const fn get(self) -> Duration {
        self.0
    }

    /// Read `250ms`, `30s`, `5m`, `24h` or `2d` (surrounding spaces
    /// ignored; very long durations saturate). The error says what is
    /// wrong, quoting the text.
    pub fn parse(s: &str) -> Result<HumanDuration, String> {
        let s = s.trim();
        let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (num, unit) = s.split_at(split);
        let bad = || format!("`{s}` is not {DURATION_SYNTAX}");
        let n: u64 = num.parse().map_err(|_| bad())?;
        let ms = match unit {
            "ms" => n,
            "s" => n.saturating_mul(1000),
            "m" => n.saturating_mul(60_000),
            "h" => n.saturating_mul(3_600_000),
            "d" => n.saturating_mul(86_400_000),
            _ => return Err(bad()),
        };
        Ok(HumanDuration::from_millis(ms))
    }
}

impl From<Duration> for HumanDuration {
    fn from(d: Duration) -> HumanDuration {
        HumanDuration(d)
    }
}

impl From<HumanDuration> for Duration {
    fn from(d: HumanDuration) -> Duration {
        d.0
    }
}

impl FromStr for HumanDuration {
    type Err = String;

    fn from_str(s: &str) -> Result<HumanDuration, String> {
        HumanDuration::parse(s)
    }
}

/// In its largest exact unit: `3d`, `49h`, `90s`, `1500ms`, `0ms`.
impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        let units: [(u128, &str); 4] = [
            (86_400_000, "d"),
            (3_600_000, "h"),
            (60_000, "m"),
            (1000, "s"),
        ];
        for (size, unit) in units {
            if ms > 0 && ms.is_multiple_of(size) {
                return write!(f, "{}{unit}", ms / size);
            }
        }
        write!(f, "{ms}ms")
    }
}

impl fmt::Debug for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl<'de> serde::Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<HumanDuration, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = HumanDuration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{DURATION_SYNTAX}, as a string (\"30s\")")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<HumanDuration, E> {
                HumanDuration::parse(s).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

impl serde::Serialize for HumanDuration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A number of bytes: an integer (`1048576`) or a string with a binary unit
/// (`"1MiB"`; `B`, `KiB`, `MiB`, `GiB`, `TiB`). Displayed in its largest
/// exact unit.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ByteSize(u64);

impl ByteSize {
    /// From bytes.
    pub const fn new(bytes: u64) -> ByteSize {
        ByteSize(bytes)
    }

    /// From mebibytes (saturating).
    pub const fn mib(n: u64) -> ByteSize {
        ByteSize(n.saturating_mul(1 << 20))
    }

    /// The number of bytes.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The number of bytes, as a `usize` (saturating).
    pub fn get_usize(self) -> usize {
        usize::try_from(self.0).unwrap_or(usize::MAX)
    }

    /// Read `1048576`, `512B`, `64KiB`, `1MiB`, `2GiB` or `1TiB`.
    pub fn parse(s: &str) -> Result<ByteSize, String> {
        let s = s.trim();
        let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (num, unit) = s.split_at(split);
        let bad = || format!("`{s}` is not a size like 65536, 64KiB, 1MiB or 2GiB");
        let n: u64 = num.parse().map_err(|_| bad())?;
        let shift = match unit.trim_start() {
            "" | "B" => 0,
            "KiB" => 10,
            "MiB" => 20,
            "GiB" => 30,
            "TiB" => 40,
            _ => return Err(bad()),
        };
        n.checked_mul(1 << shift)
            .map(ByteSize)
            .ok_or_else(|| format!("`{s}` is too large"))
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (shift, unit) in [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")] {
            if self.0 > 0 && self.0.is_multiple_of(1 << shift) {
                return write!(f, "{}{unit}", self.0 >> shift);
            }
        }
        write!(f, "{}B", self.0)
    }
}

impl fmt::Debug for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl<'de> serde::Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ByteSize, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ByteSize;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a size in bytes (65536) or with a unit (\"64KiB\", \"1MiB\")")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ByteSize, E> {
                Ok(ByteSize(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ByteSize, E> {
                u64::try_from(v)
                    .map(ByteSize)
                    .map_err(|_| E::custom("must not be negative"))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<ByteSize, E> {
                ByteSize::parse(s).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

impl serde::Serialize for ByteSize {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

/// An integer from `MIN` to `MAX`, both included; anything else is refused
/// while reading ("must be at least 1").
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Count<const MIN: u64, const MAX: u64>(u64);

/// A count of at least 1 (workers, attempts, batch sizes).
pub type NonZeroCount = Count<1, { u64::MAX }>;

/// A count of at least 1 that fits a `u32`.
pub type NonZeroCount32 = Count<1, { u32::MAX as u64 }>;

impl<const MIN: u64, const MAX: u64> Count<MIN, MAX> {
    /// `n`, if it is within bounds.
    pub const fn new(n: u64) -> Option<Self> {
        if n >= MIN && n <= MAX {
            Some(Count(n))
        } else {
            None
        }
    }

    /// `n` moved into bounds (for defaults written in code).
    pub const fn clamped(n: u64) -> Self {
        Count(if n < MIN {
            MIN
        } else if n > MAX {
            MAX
        } else {
            n
        })
    }

    /// The count.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The count as a `u32` (saturating).
    pub fn get_u32(self) -> u32 {
        u32::try_from(self.0).unwrap_or(u32::MAX)
    }

    /// The count as a `usize` (saturating).
    pub fn get_usize(self) -> usize {
        usize::try_from(self.0).unwrap_or(usize::MAX)
    }

    /// What is wrong with `n`, if anything.
    fn check(n: i128) -> Result<u64, String> {
        if n < i128::from(MIN) {
            Err(if MAX == u64::MAX || MAX == u64::from(u32::MAX) {
                format!("must be at least {MIN}")
            } else {
                format!("must be from {MIN} to {MAX}")
            })
        } else if n > i128::from(MAX) {
            Err(format!("must be at most {MAX}"))
        } else {
            // Within MIN..=MAX, so it fits.
            u64::try_from(n).map_err(|_| format!("must be at most {MAX}"))
        }
    }
}

impl<const MIN: u64, const MAX: u64> fmt::Display for Count<MIN, MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<const MIN: u64, const MAX: u64> fmt::Debug for Count<MIN, MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<'de, const MIN: u64, const MAX: u64> serde::Deserialize<'de> for Count<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<const MIN: u64, const MAX: u64>;
        impl<const MIN: u64, const MAX: u64> Visitor<'_> for V<MIN, MAX> {
            type Value = Count<MIN, MAX>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                if MAX == u64::MAX || MAX == u64::from(u32::MAX) {
                    write!(f, "an integer of at least {MIN}")
                } else {
                    write!(f, "an integer from {MIN} to {MAX}")
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Count::<MIN, MAX>::check(i128::from(v))
                    .map(Count)
                    .map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Count::<MIN, MAX>::check(i128::from(v))
                    .map(Count)
                    .map_err(E::custom)
            }
        }
        d.deserialize_u64(V::<MIN, MAX>)
    }
}

impl<const MIN: u64, const MAX: u64> serde::Serialize for Count<MIN, MAX> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

/// Where a secret comes from: the keys `<name>` (inline, for development
/// only), `<name>-env` (an environment variable) and `<name>-file` (a
/// file), of which at most one may be given. `Debug` never shows an inline
/// secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// Written in the configuration itself.
    Inline(Secret),
    /// The environment variable of this name.
    Env(String),
    /// This file; a trailing newline is ignored.
    File(PathBuf),
}

impl SecretSource {
    /// From the three keys of secret `name`: `None` if none is given, an
    /// error (naming the keys) if more than one is. A relative file is
    /// taken relative to `base` (the configuration file's directory).
    pub fn from_keys(
        name: &str,
        inline: Option<Secret>,
        env: Option<String>,
        file: Option<PathBuf>,
        base: &Path,
    ) -> Result<Option<SecretSource>, String> {
        let given = usize::from(inline.is_some())
            + usize::from(env.is_some())
            + usize::from(file.is_some());
        if given > 1 {
            return Err(format!(
                "give exactly one of `{name}`, `{name}-env` and `{name}-file`"
            ));
        }
        Ok(match (inline, env, file) {
            (Some(s), _, _) => Some(SecretSource::Inline(s)),
            (_, Some(var), _) => Some(SecretSource::Env(var)),
            (_, _, Some(f)) => Some(SecretSource::File(if f.is_absolute() {
                f
            } else {
                base.join(f)
            })),
            _ => None,
        })
    }

    /// The key it was given under, for secret `name`.
    pub fn key(&self, name: &str) -> String {
        match self {
            SecretSource::Inline(_) => name.to_owned(),
            SecretSource::Env(_) => format!("{name}-env"),
            SecretSource::File(_) => format!("{name}-file"),
        }
    }

    /// Whether the secret is written in the configuration.
    pub fn is_inline(&self) -> bool {
        matches!(self, SecretSource::Inline(_))
    }

    /// Read the secret from the process environment or its file.
    pub fn resolve(&self) -> Result<Secret, String> {
        self.resolve_with(|var| std::env::var(var).ok())
    }

    /// [`SecretSource::resolve`] with the environment given as a lookup.
    /// Trailing line ends are dropped; an empty secret is an error. The
    /// error never contains the secret.
    pub fn resolve_with(&self, env: impl Fn(&str) -> Option<String>) -> Result<Secret, String> {
        let value = match self {
            SecretSource::Inline(s) => s.expose().to_owned(),
            SecretSource::Env(var) => {
                env(var).ok_or_else(|| format!("the environment variable `{var}` is not set"))?
            }
            SecretSource::File(file) => std::fs::read_to_string(file)
                .map_err(|e| format!("cannot read {}: {e}", file.display()))?,
        };
        let value = value.trim_end_matches(['\n', '\r']);
        if value.trim().is_empty() {
            return Err(match self {
                SecretSource::Env(var) => format!("the environment variable `{var}` is empty"),
                SecretSource::File(file) => format!("{} is empty", file.display()),
                SecretSource::Inline(_) => "the secret is empty".to_owned(),
            });
        }
        Ok(Secret::new(value))
    }
}

/// A duration key that used to be an integer with its unit in its name
/// (`request-timeout-ms = 30000`), now a [`HumanDuration`]
/// (`request-timeout = "30s"`). The old key is still read, with a warning;
/// giving both is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenamedDuration {
    /// The deprecated key (`request-timeout-ms`).
    pub old: &'static str,
    /// The key that replaces it (`request-timeout`).
    pub new: &'static str,
    /// The old key's unit (1 ms for `*-ms`, 1 s for `*-secs`).
    pub unit: Duration,
}

/// What [`RenamedDuration::pick`] chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picked {
    /// The value, from whichever key was given.
    pub value: Option<HumanDuration>,
    /// A warning if the deprecated key was used.
    pub warning: Option<String>,
}

impl RenamedDuration {
    /// A `*-ms` key renamed.
    pub const fn millis(old: &'static str, new: &'static str) -> RenamedDuration {
        RenamedDuration {
            old,
            new,
            unit: Duration::from_millis(1),
        }
    }

    /// A `*-secs` key renamed.
    pub const fn secs(old: &'static str, new: &'static str) -> RenamedDuration {
        RenamedDuration {
            old,
            new,
            unit: Duration::from_secs(1),
        }
    }

    /// The old key's value as a duration.
    pub fn convert(&self, old: u64) -> HumanDuration {
        let unit_ms = u64::try_from(self.unit.as_millis()).unwrap_or(u64::MAX);
        HumanDuration::from_millis(unit_ms.saturating_mul(old))
    }

    /// Choose between the new key's value and the old one's; `prefix` is
    /// put before both keys in messages (`"corecase."`). Both given: an
    /// error (about the old key).
    pub fn pick(
        &self,
        prefix: &str,
        new: Option<HumanDuration>,
        old: Option<u64>,
    ) -> Result<Picked, String> {
        let (old_key, new_key) = (
            format!("{prefix}{}", self.old),
            format!("{prefix}{}", self.new),
        );
        match (new, old) {
            (Some(_), Some(_)) => Err(format!(
                "`{old_key}` is the deprecated spelling of `{new_key}`: give only `{new_key}`"
            )),
            (None, Some(n)) => {
                let value = self.convert(n);
                Ok(Picked {
                    value: Some(value),
                    warning: Some(format!(
                        "`{old_key}` is deprecated: write `{new_key} = \"{value}\"` instead"
                    )),
                })
            }
            (new, None) => Ok(Picked {
                value: new,
                warning: None,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct T {
        d: Option<HumanDuration>,
        n: Option<NonZeroCount32>,
        b: Option<ByteSize>,
        p: Option<Count<1, 1000>>,
    }

    fn read(json: &str) -> Result<T, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn durations_read_and_print_the_same() {
        for (d, text) in [
            (Duration::from_secs(3 * 86_400), "3d"),
            (Duration::from_secs(49 * 3600), "49h"),
            (Duration::from_secs(90), "90s"),
            (Duration::from_secs(300), "5m"),
            (Duration::from_millis(1500), "1500ms"),
            (Duration::ZERO, "0ms"),
        ] {
            assert_eq!(HumanDuration::from(d).to_string(), text);
            assert_eq!(HumanDuration::parse(text), Ok(HumanDuration::from(d)));
        }
        assert_eq!(
            HumanDuration::parse(" 250ms "),
            Ok(HumanDuration::from_millis(250))
        );
        for bad in ["1.5s", "s", "5 minutes", "-1s", "", "30"] {
            let e = HumanDuration::parse(bad).unwrap_err();
            assert!(e.contains("is not a duration like 250ms"), "{e}");
        }
        assert_eq!(
            read(r#"{"d":"2d"}"#).unwrap().d,
            Some(HumanDuration::from_secs(172_800))
        );
        let e = read(r#"{"d":"soon"}"#).unwrap_err();
        assert!(e.contains("`soon` is not a duration"), "{e}");
        let e = read(r#"{"d":30000}"#).unwrap_err();
        assert!(e.contains("expected a duration like 250ms"), "{e}");
    }

    #[test]
    fn counts_are_held_to_their_bounds() {
        assert_eq!(read(r#"{"n":3}"#).unwrap().n.map(Count::get_u32), Some(3));
        for (json, want) in [
            (r#"{"n":0}"#, "must be at least 1"),
            (r#"{"n":-4}"#, "must be at least 1"),
            (r#"{"n":4294967296}"#, "must be at most 4294967295"),
            (r#"{"n":"3"}"#, "expected an integer of at least 1"),
            (r#"{"p":0}"#, "must be from 1 to 1000"),
            (r#"{"p":1001}"#, "must be at most 1000"),
        ] {
            let e = read(json).unwrap_err();
            assert!(e.contains(want), "{json}: want {want:?} in {e:?}");
        }
        assert_eq!(read(r#"{"p":1000}"#).unwrap().p.map(Count::get), Some(1000));
        assert_eq!(NonZeroCount::clamped(0).get(), 1);
        assert_eq!(Count::<1, 10>::new(11), None);
    }

    #[test]
    fn sizes_take_integers_and_units() {
        for (json, bytes) in [
            (r#"{"b":1048576}"#, 1 << 20),
            (r#"{"b":"1MiB"}"#, 1 << 20),
            (r#"{"b":"64KiB"}"#, 64 << 10),
            (r#"{"b":"512"}"#, 512),
            (r#"{"b":"2 GiB"}"#, 2 << 30),
        ] {
            assert_eq!(
                read(json).unwrap().b.map(ByteSize::get),
                Some(bytes),
                "{json}"
            );
        }
        for (json, want) in [
            (r#"{"b":"1MB"}"#, "is not a size like"),
            (r#"{"b":-1}"#, "must not be negative"),
            (r#"{"b":"99999999999TiB"}"#, "is too large"),
        ] {
            let e = read(json).unwrap_err();
            assert!(e.contains(want), "{json}: want {want:?} in {e:?}");
        }
        assert_eq!(ByteSize::mib(8).to_string(), "8MiB");
        assert_eq!(ByteSize::new(1000).to_string(), "1000B");
    }

    #[test]
    fn secret_sources() {
        let base = Path::new("/etc/shopcase");
        assert_eq!(
            SecretSource::from_keys("k", None, None, None, base),
            Ok(None)
        );
        let e = SecretSource::from_keys(
            "admin-token",
            Some(Secret::new("x")),
            Some("V".into()),
            None,
            base,
        )
        .unwrap_err();
        assert_eq!(
            e,
            "give exactly one of `admin-token`, `admin-token-env` and `admin-token-file`"
        );
        let f = SecretSource::from_keys("k", None, None, Some("s.txt".into()), base)
            .unwrap()
            .unwrap();
        assert_eq!(f, SecretSource::File("/etc/shopcase/s.txt".into()));
        assert_eq!(f.key("k"), "k-file");

        let env = SecretSource::Env("V".into());
        let s = env.resolve_with(|_| Some("s3cret\r\n".into())).unwrap();
        assert_eq!(s.expose(), "s3cret");
        assert_eq!(
            env.resolve_with(|_| None).unwrap_err(),
            "the environment variable `V` is not set"
        );
        assert!(env.resolve_with(|_| Some("\n".into())).is_err());
        let inline = SecretSource::Inline(Secret::new("hunter2"));
        assert!(!format!("{inline:?}").contains("hunter2"));
        let dir = std::env::temp_dir().join("shopcase-net-no-such-dir");
        let e = SecretSource::File(dir.join("secret"))
            .resolve()
            .unwrap_err();
        assert!(e.starts_with("cannot read "), "{e}");
    }

    #[test]
    fn renamed_durations() {
        let r = RenamedDuration::millis("request-timeout-ms", "request-timeout");
        let p = r.pick("corecase.", None, Some(30_000)).unwrap();
        assert_eq!(p.value, Some(HumanDuration::from_secs(30)));
        assert_eq!(
            p.warning.as_deref(),
            Some(
                "`corecase.request-timeout-ms` is deprecated: write `corecase.request-timeout = \"30s\"` instead"
            )
        );
        let p = r.pick("", Some(HumanDuration::from_secs(5)), None).unwrap();
        assert_eq!(
            (p.value, p.warning),
            (Some(HumanDuration::from_secs(5)), None)
        );
        let e = r
            .pick("", Some(HumanDuration::from_secs(5)), Some(5000))
            .unwrap_err();
        assert!(
            e.contains("`request-timeout-ms` is the deprecated spelling of `request-timeout`"),
            "{e}"
        );
        let secs = RenamedDuration::secs("margin-secs", "margin");
        assert_eq!(secs.convert(60), HumanDuration::from_secs(60));
    }
}
