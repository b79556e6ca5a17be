//! CONVERT(number, from_unit, to_unit): Excel's unit table, its metric and binary prefixes, and
//! its temperature scales. Units are case-sensitive; an unknown unit, or two units measuring
//! different things, is #N/A.

use formualizer_common::{ExcelError, ExcelErrorKind, LiteralValue};

use super::{Args, Outcome};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Quantity {
    Mass,
    Distance,
    Time,
    Pressure,
    Force,
    Energy,
    Power,
    Magnetism,
    Temperature,
    Volume,
    Area,
    Information,
    Speed,
}

use Quantity::*;

/// A unit: its names, what it measures, its size in the quantity's base unit (gram, metre,
/// second, pascal, newton, joule, watt, tesla, kelvin, litre, square metre, bit, metre per
/// second), whether it takes a prefix, and the power a prefix is raised to (2 for areas).
struct Unit {
    names: &'static [&'static str],
    quantity: Quantity,
    factor: f64,
    prefixed: bool,
    power: i32,
}

const fn u(names: &'static [&'static str], quantity: Quantity, factor: f64, prefixed: bool) -> Unit {
    Unit { names, quantity, factor, prefixed, power: 1 }
}

const fn up(names: &'static [&'static str], quantity: Quantity, factor: f64, power: i32) -> Unit {
    Unit { names, quantity, factor, prefixed: true, power }
}

const INCH: f64 = 0.0254;
const LIGHT_YEAR: f64 = 9_460_730_472_580_800.0;
const PICA_POINT: f64 = INCH / 72.0;

const UNITS: &[Unit] = &[
    // Mass (gram)
    u(&["g"], Mass, 1.0, true),
    u(&["sg"], Mass, 14_593.902_937_206_364, false),
    u(&["lbm"], Mass, 453.592_37, false),
    u(&["u"], Mass, 1.660_538_782e-24, true),
    u(&["ozm"], Mass, 28.349_523_125, false),
    u(&["grain"], Mass, 0.064_798_91, false),
    u(&["cwt", "shweight"], Mass, 45_359.237, false),
    u(&["uk_cwt", "lcwt", "hweight"], Mass, 50_802.345_44, false),
    u(&["stone"], Mass, 6_350.293_18, false),
    u(&["ton"], Mass, 907_184.74, false),
    u(&["uk_ton", "LTON", "brton"], Mass, 1_016_046.908_8, false),
    // Distance (metre)
    u(&["m"], Distance, 1.0, true),
    u(&["mi"], Distance, 1_609.344, false),
    u(&["Nmi"], Distance, 1_852.0, false),
    u(&["in"], Distance, INCH, false),
    u(&["ft"], Distance, 0.3048, false),
    u(&["yd"], Distance, 0.9144, false),
    u(&["ang"], Distance, 1e-10, true),
    u(&["ell"], Distance, 1.143, false),
    u(&["ly"], Distance, LIGHT_YEAR, true),
    u(&["parsec", "pc"], Distance, 30_856_775_812_815_532.0, true),
    u(&["Picapt", "Pica"], Distance, PICA_POINT, false),
    u(&["pica"], Distance, INCH / 6.0, false),
    u(&["survey_mi"], Distance, 1_609.347_218_694_437_3, false),
    // Time (second)
    u(&["yr"], Time, 31_557_600.0, false),
    u(&["day", "d"], Time, 86_400.0, false),
    u(&["hr"], Time, 3_600.0, false),
    u(&["mn", "min"], Time, 60.0, false),
    u(&["sec", "s"], Time, 1.0, true),
    // Pressure (pascal)
    u(&["Pa", "p"], Pressure, 1.0, true),
    u(&["atm", "at"], Pressure, 101_325.0, true),
    u(&["mmHg"], Pressure, 133.322, true),
    u(&["psi"], Pressure, 6_894.757_293_168_361, false),
    u(&["Torr"], Pressure, 133.322_368_421_052_63, false),
    // Force (newton)
    u(&["N"], Force, 1.0, true),
    u(&["dyn", "dy"], Force, 1e-5, true),
    u(&["lbf"], Force, 4.448_221_615_260_5, false),
    u(&["pond"], Force, 9.806_65e-3, true),
    // Energy (joule)
    u(&["J"], Energy, 1.0, true),
    u(&["e"], Energy, 1e-7, true),
    u(&["c"], Energy, 4.184, true),
    u(&["cal"], Energy, 4.1868, true),
    u(&["eV", "ev"], Energy, 1.602_176_487e-19, true),
    u(&["HPh", "hh"], Energy, 2_684_519.537_696_172_7, false),
    u(&["Wh", "wh"], Energy, 3_600.0, true),
    u(&["flb"], Energy, 1.355_817_948_331_400_4, false),
    u(&["BTU", "btu"], Energy, 1_055.055_852_62, false),
    // Power (watt)
    u(&["HP", "h"], Power, 745.699_871_582_270_2, false),
    u(&["PS"], Power, 735.498_75, false),
    u(&["W", "w"], Power, 1.0, true),
    // Magnetism (tesla)
    u(&["T"], Magnetism, 1.0, true),
    u(&["ga"], Magnetism, 1e-4, true),
    // Temperature (kelvin; the scales are converted in `to_kelvin`)
    u(&["C", "cel"], Temperature, 1.0, false),
    u(&["F", "fah"], Temperature, 1.0, false),
    u(&["K", "kel"], Temperature, 1.0, true),
    u(&["Rank"], Temperature, 1.0, false),
    u(&["Reau"], Temperature, 1.0, false),
    // Volume (litre)
    u(&["tsp"], Volume, 0.004_928_921_593_75, false),
    u(&["tspm"], Volume, 0.005, false),
    u(&["tbs"], Volume, 0.014_786_764_781_25, false),
    u(&["oz"], Volume, 0.029_573_529_562_5, false),
    u(&["cup"], Volume, 0.236_588_236_5, false),
    u(&["pt", "us_pt"], Volume, 0.473_176_473, false),
    u(&["uk_pt"], Volume, 0.568_261_25, true),
    u(&["qt"], Volume, 0.946_352_946, false),
    u(&["uk_qt"], Volume, 1.136_522_5, false),
    u(&["gal"], Volume, 3.785_411_784, false),
    u(&["uk_gal"], Volume, 4.546_09, false),
    u(&["l", "L", "lt"], Volume, 1.0, true),
    up(&["ang3", "ang^3"], Volume, 1e-27, 3),
    u(&["barrel"], Volume, 158.987_294_928, false),
    u(&["bushel"], Volume, 35.239_070_166_88, false),
    u(&["ft3", "ft^3"], Volume, 28.316_846_592, false),
    u(&["in3", "in^3"], Volume, 0.016_387_064, false),
    u(&["ly3", "ly^3"], Volume, LIGHT_YEAR * LIGHT_YEAR * LIGHT_YEAR * 1000.0, false),
    up(&["m3", "m^3"], Volume, 1000.0, 3),
    u(&["mi3", "mi^3"], Volume, 1_609.344 * 1_609.344 * 1_609.344 * 1000.0, false),
    u(&["yd3", "yd^3"], Volume, 764.554_857_984, false),
    u(&["Nmi3", "Nmi^3"], Volume, 1_852.0 * 1_852.0 * 1_852.0 * 1000.0, false),
    u(&["Picapt3", "Picapt^3", "Pica3", "Pica^3"], Volume, PICA_POINT * PICA_POINT * PICA_POINT * 1000.0, false),
    u(&["GRT", "regton"], Volume, 2_831.684_659_2, false),
    u(&["MTON"], Volume, 1_132.673_863_68, false),
    // Area (square metre)
    u(&["uk_acre"], Area, 4_046.856_422_4, false),
    u(&["us_acre"], Area, 4_046.872_609_874_252, false),
    up(&["ang2", "ang^2"], Area, 1e-20, 2),
    u(&["ar"], Area, 100.0, true),
    u(&["ft2", "ft^2"], Area, 0.092_903_04, false),
    u(&["ha"], Area, 10_000.0, false),
    u(&["in2", "in^2"], Area, 0.000_645_16, false),
    u(&["ly2", "ly^2"], Area, LIGHT_YEAR * LIGHT_YEAR, false),
    up(&["m2", "m^2"], Area, 1.0, 2),
    u(&["Morgen"], Area, 2_500.0, false),
    u(&["mi2", "mi^2"], Area, 1_609.344 * 1_609.344, false),
    u(&["Nmi2", "Nmi^2"], Area, 1_852.0 * 1_852.0, false),
    u(&["Picapt2", "Pica2", "Pica^2", "Picapt^2"], Area, PICA_POINT * PICA_POINT, false),
    u(&["yd2", "yd^2"], Area, 0.836_127_36, false),
    // Information (bit)
    u(&["bit"], Information, 1.0, true),
    u(&["byte"], Information, 8.0, true),
    // Speed (metre per second)
    u(&["admkn"], Speed, 0.514_773_333_333_333_3, false),
    u(&["kn"], Speed, 0.514_444_444_444_444_4, false),
    u(&["m/h", "m/hr"], Speed, 1.0 / 3_600.0, true),
    u(&["m/s", "m/sec"], Speed, 1.0, true),
    u(&["mph"], Speed, 0.447_04, true),
];

const PREFIXES: &[(&str, f64)] = &[
    ("Y", 1e24),
    ("Z", 1e21),
    ("E", 1e18),
    ("P", 1e15),
    ("T", 1e12),
    ("G", 1e9),
    ("M", 1e6),
    ("k", 1e3),
    ("h", 1e2),
    ("da", 1e1),
    ("e", 1e1),
    ("d", 1e-1),
    ("c", 1e-2),
    ("m", 1e-3),
    ("u", 1e-6),
    ("n", 1e-9),
    ("p", 1e-12),
    ("f", 1e-15),
    ("a", 1e-18),
    ("z", 1e-21),
    ("y", 1e-24),
];

/// Binary prefixes, for information units only.
const BINARY_PREFIXES: &[(&str, f64)] = &[
    ("Yi", 1_208_925_819_614_629_174_706_176.0),
    ("Zi", 1_180_591_620_717_411_303_424.0),
    ("Ei", 1_152_921_504_606_846_976.0),
    ("Pi", 1_125_899_906_842_624.0),
    ("Ti", 1_099_511_627_776.0),
    ("Gi", 1_073_741_824.0),
    ("Mi", 1_048_576.0),
    ("ki", 1_024.0),
];

/// A unit name, possibly prefixed: the unit and the multiplier its prefix brings. A name that is
/// a unit as written wins over a prefix reading of it (`mi` is a mile, not a milli-inch).
fn lookup(name: &str) -> Option<(&'static Unit, f64)> {
    if let Some(unit) = UNITS.iter().find(|u| u.names.contains(&name)) {
        return Some((unit, 1.0));
    }
    for (prefix, multiplier) in BINARY_PREFIXES.iter().chain(PREFIXES) {
        let Some(rest) = name.strip_prefix(prefix) else { continue };
        let binary = prefix.ends_with('i') && prefix.len() == 2;
        if let Some(unit) = UNITS.iter().find(|u| u.prefixed && u.names.contains(&rest)) {
            if binary && unit.quantity != Information {
                continue;
            }
            return Some((unit, multiplier.powi(unit.power)));
        }
    }
    None
}

fn to_kelvin(name: &str, v: f64) -> f64 {
    match name {
        "C" | "cel" => v + 273.15,
        "F" | "fah" => (v - 32.0) * 5.0 / 9.0 + 273.15,
        "Rank" => v * 5.0 / 9.0,
        "Reau" => v * 1.25 + 273.15,
        _ => v,
    }
}

fn from_kelvin(name: &str, k: f64) -> f64 {
    match name {
        "C" | "cel" => k - 273.15,
        "F" | "fah" => (k - 273.15) * 9.0 / 5.0 + 32.0,
        "Rank" => k * 9.0 / 5.0,
        "Reau" => (k - 273.15) / 1.25,
        _ => k,
    }
}

pub(super) fn convert(a: &Args) -> Outcome {
    let n = a.number(0)?;
    let (from, to) = (a.text(1)?, a.text(2)?);
    let na = || ExcelError::new(ExcelErrorKind::Na);
    let (from_unit, from_mult) = lookup(&from).ok_or_else(na)?;
    let (to_unit, to_mult) = lookup(&to).ok_or_else(na)?;
    if from_unit.quantity != to_unit.quantity {
        return Err(na());
    }
    if from_unit.quantity == Temperature {
        let kelvin = to_kelvin(from_unit.names[0], n * from_mult);
        return Ok(LiteralValue::Number(from_kelvin(to_unit.names[0], kelvin) / to_mult));
    }
    Ok(LiteralValue::Number(n * (from_unit.factor * from_mult) / (to_unit.factor * to_mult)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert3(n: f64, from: &str, to: &str) -> Outcome {
        let args = Args::from_values(&[
            LiteralValue::Number(n),
            LiteralValue::Text(from.into()),
            LiteralValue::Text(to.into()),
        ]);
        convert(&args)
    }

    fn close(r: Outcome, want: f64) -> bool {
        matches!(r, Ok(LiteralValue::Number(v)) if ((v - want) / want).abs() < 1e-12)
    }

    #[test]
    fn units_prefixes_and_scales() {
        assert!(close(convert3(1.0, "lbm", "kg"), 0.45359237));
        assert!(close(convert3(1.0, "mi", "m"), 1609.344));
        // Prefixes are raised to the unit's power; binary prefixes are for information only.
        assert!(close(convert3(1.0, "km2", "m2"), 1e6));
        assert!(close(convert3(1.0, "kibyte", "bit"), 8192.0));
        assert!(convert3(1.0, "kim", "m").is_err());
        assert!(close(convert3(100.0, "C", "F"), 212.0));
        assert!(close(convert3(0.0, "F", "K"), 255.372_222_222_222_2));
        // Case matters; different quantities do not convert.
        assert!(convert3(1.0, "M", "m").is_err());
        assert!(convert3(1.0, "g", "m").is_err());
        assert!(convert3(1.0, "Mpsi", "Pa").is_err());
    }
}
