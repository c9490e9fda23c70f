//! File names from stream names that come off the network, and UTC times for them.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Longest name component kept (bytes, all ASCII after sanitizing).
const MAX_COMPONENT: usize = 80;

/// A file-name component from an app or stream name: letters, digits, `-`, `_` and `.` are
/// kept, anything else (separators, `..`, control characters, non-ASCII) becomes `_`; a
/// leading dot is prefixed with `_`, so the result is never `.`, `..` or hidden; it is never
/// empty and at most 80 bytes.
pub fn safe_component(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(MAX_COMPONENT)
        .collect();
    if out.is_empty() || out.starts_with('.') {
        out.insert(0, '_');
        out.truncate(MAX_COMPONENT);
    }
    out
}

/// `{root}/{app}/` with the app name made safe; `None` if that would leave `root` (it cannot,
/// but the check costs nothing).
pub fn app_dir(root: &Path, app: &str) -> Option<PathBuf> {
    let dir = root.join(safe_component(app));
    dir.starts_with(root).then_some(dir)
}

/// UTC date and time of `t` as `YYYYMMDD-HHMMSS`.
pub fn utc_stamp(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let s = secs % 86_400;
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// The proleptic Gregorian date of a day count from 1970-01-01, computed in 400-year eras
/// (146097 days each) starting on March 1st, so that the leap day ends the year.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468; // days from 0000-03-01
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of era, 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // year of era
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of the March-based year
    let mp = (5 * doy + 2) / 153; // month from March = 0
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn unsafe_names_are_neutralised() {
        assert_eq!(safe_component("cam1"), "cam1");
        assert_eq!(safe_component("../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_component(".."), "_..");
        assert_eq!(safe_component("."), "_.");
        assert_eq!(safe_component(""), "_");
        assert_eq!(safe_component("a/b\\c\0d\ne"), "a_b_c_d_e");
        assert_eq!(safe_component("caméra"), "cam_ra");
        assert_eq!(safe_component(&"x".repeat(300)).len(), 80);
        assert_eq!(safe_component(&".".repeat(300)).len(), 80);
        let root = Path::new("/srv/rec");
        assert_eq!(
            app_dir(root, "../../x").unwrap(),
            Path::new("/srv/rec/_.._.._x")
        );
        assert_eq!(app_dir(root, "/abs").unwrap(), Path::new("/srv/rec/_abs"));
    }

    #[test]
    fn utc_stamps() {
        assert_eq!(utc_stamp(UNIX_EPOCH), "19700101-000000");
        let t = |s| UNIX_EPOCH + Duration::from_secs(s);
        // 2000-02-29 12:34:56 (a leap day of a century leap year).
        assert_eq!(utc_stamp(t(951_827_696)), "20000229-123456");
        // 2024-12-31 23:59:59 and the second after.
        assert_eq!(utc_stamp(t(1_735_689_599)), "20241231-235959");
        assert_eq!(utc_stamp(t(1_735_689_600)), "20250101-000000");
        // 2100-03-01 (2100 is not a leap year).
        assert_eq!(utc_stamp(t(4_107_542_400)), "21000301-000000");
    }
}
