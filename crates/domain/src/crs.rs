//! Coordinate reference systems: WGS-84 (what we store) and GCJ-02 (what 高德/腾讯 maps give).
//!
//! GCJ-02 is WGS-84 with a published, deterministic obfuscation applied inside China. The forward
//! transform is the widely published formula; the inverse has no closed form, so we invert it by
//! fixed-point iteration to well under a millimetre. Outside China both systems coincide.

use std::f64::consts::PI;

/// Krasovsky 1940 semi-major axis and eccentricity², as the GCJ-02 formula uses them.
const A: f64 = 6_378_245.0;
const EE: f64 = 0.006_693_421_622_965_943;

/// Which coordinate system a client's point is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Crs {
    #[default]
    Wgs84,
    Gcj02,
}

impl std::str::FromStr for Crs {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "wgs84" | "wgs-84" | "epsg:4326" | "cgcs2000" => Ok(Crs::Wgs84),
            "gcj02" | "gcj-02" => Ok(Crs::Gcj02),
            other => Err(format!("未知坐标系 \"{other}\"（应为 wgs84 或 gcj02）")),
        }
    }
}

impl Crs {
    /// Converts a point in this system to WGS-84.
    pub fn to_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            Crs::Wgs84 => (lon, lat),
            Crs::Gcj02 => gcj02_to_wgs84(lon, lat),
        }
    }
}

/// The rough box the GCJ-02 offset applies in.
pub fn out_of_china(lon: f64, lat: f64) -> bool {
    !(72.004..=137.8347).contains(&lon) || !(0.8293..=55.8271).contains(&lat)
}

fn shift_lat(x: f64, y: f64) -> f64 {
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    r
}

fn shift_lon(x: f64, y: f64) -> f64 {
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    r
}

/// WGS-84 → GCJ-02.
pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    if out_of_china(lon, lat) {
        return (lon, lat);
    }
    let d_lat = shift_lat(lon - 105.0, lat - 35.0);
    let d_lon = shift_lon(lon - 105.0, lat - 35.0);
    let rad_lat = lat / 180.0 * PI;
    let magic = 1.0 - EE * rad_lat.sin().powi(2);
    let sqrt_magic = magic.sqrt();
    let d_lat = (d_lat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    let d_lon = (d_lon * 180.0) / (A / sqrt_magic * rad_lat.cos() * PI);
    (lon + d_lon, lat + d_lat)
}

/// GCJ-02 → WGS-84, by iterating the forward transform until it reproduces the input.
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    if out_of_china(lon, lat) {
        return (lon, lat);
    }
    let (mut w_lon, mut w_lat) = (lon, lat);
    for _ in 0..30 {
        let (g_lon, g_lat) = wgs84_to_gcj02(w_lon, w_lat);
        let (e_lon, e_lat) = (g_lon - lon, g_lat - lat);
        w_lon -= e_lon;
        w_lat -= e_lat;
        if e_lon.abs() < 1e-12 && e_lat.abs() < 1e-12 {
            break;
        }
    }
    (w_lon, w_lat)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_offset_near_shizuishan() {
        // The GCJ-02 shift in northern Ningxia is a few hundred metres, mostly eastwards.
        let (glon, glat) = wgs84_to_gcj02(106.38, 39.01);
        let d_lon_m = (glon - 106.38) * 111_320.0 * (39.01f64).to_radians().cos();
        let d_lat_m = (glat - 39.01) * 110_540.0;
        assert!((100.0..900.0).contains(&d_lon_m.abs()), "{d_lon_m}");
        assert!(d_lat_m.abs() < 900.0, "{d_lat_m}");
    }

    #[test]
    fn published_reference_vectors() {
        // Vectors published with the widely used open implementations of the formula.
        let cases = [(
            (116.404, 39.915),
            (116.410_244_499_169_38, 39.916_404_281_501_64),
        )];
        for ((lon, lat), (g_lon, g_lat)) in cases {
            let (x, y) = wgs84_to_gcj02(lon, lat);
            assert!((x - g_lon).abs() < 1e-9, "{x} vs {g_lon}");
            assert!((y - g_lat).abs() < 1e-9, "{y} vs {g_lat}");
        }
    }

    #[test]
    fn outside_china_is_unchanged() {
        assert_eq!(wgs84_to_gcj02(2.35, 48.85), (2.35, 48.85));
        assert_eq!(gcj02_to_wgs84(-74.0, 40.7), (-74.0, 40.7));
    }

    proptest! {
        #[test]
        fn round_trip_is_sub_millimetre(lon in 73.0f64..135.0, lat in 4.0f64..53.0) {
            let (g_lon, g_lat) = wgs84_to_gcj02(lon, lat);
            let (w_lon, w_lat) = gcj02_to_wgs84(g_lon, g_lat);
            // 1e-8 degrees is about a millimetre.
            prop_assert!((w_lon - lon).abs() < 1e-8, "lon {} vs {}", w_lon, lon);
            prop_assert!((w_lat - lat).abs() < 1e-8, "lat {} vs {}", w_lat, lat);
        }
    }
}
