//! Durations as the command line and budgets write them: `500ms`, `90s`, `5m`, `1h`, or bare seconds.

use std::time::Duration;

/// A positive duration of at most a year: a bare number is seconds, anything else is read by
/// humantime in the units workbookd has always taken (`250ms`, `90s`, `5m`, `1h 30m`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let units = t.split(|c: char| !c.is_ascii_alphabetic()).filter(|u| !u.is_empty());
    if let Some(unit) = units.into_iter().find(|u| !["ms", "s", "m", "h"].contains(u)) {
        if t.parse::<f64>().is_err() {
            return Err(format!("'{text}': the unit must be ms, s, m or h, not {unit}"));
        }
    }
    let secs = match t.parse::<f64>() {
        Ok(n) => n,
        Err(_) => humantime::parse_duration(t)
            .map_err(|e| format!("'{text}' is not a duration like 90s or 5m: {e}"))?
            .as_secs_f64(),
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
        assert_eq!(super::parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(super::parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(super::parse_duration("1.5m"), Ok(Duration::from_secs(90)));
        for bad in ["", "5x", "-1s", "0s", "m", "-5", "3d", "2days", "NaN", "inf"] {
            assert!(super::parse_duration(bad).is_err(), "{bad}");
        }
    }
}
