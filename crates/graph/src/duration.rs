//! Durations as the command line and budgets write them: `500ms`, `90s`, `5m`, `1h`.

use std::time::Duration;

/// A positive duration of at most a year; a bare number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: f64 = number.parse().map_err(|_| format!("'{text}' is not a duration like 90s or 5m"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("'{text}': the unit must be ms, s, m or h")),
    };
    if !secs.is_finite() || secs <= 0.0 || secs > 366.0 * 86_400.0 {
        return Err(format!("'{text}' is out of range"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(super::parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(super::parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(super::parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(super::parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(super::parse_duration("90"), Ok(Duration::from_secs(90)));
        for bad in ["", "5x", "-1s", "0s", "m"] {
            assert!(super::parse_duration(bad).is_err(), "{bad}");
        }
    }
}
