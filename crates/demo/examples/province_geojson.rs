//! Writes a large synthetic GeoJSON FeatureCollection for the import benchmark: one city, 20
//! counties × 50 townships × N communities, two jitter-edged grids per community.
//! Usage: `cargo run --release -p wangge-demo --example province_geojson -- OUT.geojson [GRIDS]`

use std::io::Write;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let out = args.next().unwrap_or_else(|| "province.geojson".into());
    let grids: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(200_000);
    let communities_per_township = (grids / 2).div_ceil(20 * 50).clamp(1, 199);
    let mut w = std::io::BufWriter::new(std::fs::File::create(&out)?);
    let (cw, ch) = (0.004, 0.004);
    write!(w, r#"{{"type":"FeatureCollection","features":["#)?;
    let mut first = true;
    let mut feature = |w: &mut std::io::BufWriter<std::fs::File>,
                       props: String,
                       geom: String|
     -> std::io::Result<()> {
        if !first {
            w.write_all(b",\n")?;
        }
        first = false;
        write!(
            w,
            r#"{{"type":"Feature","properties":{props},"geometry":{geom}}}"#
        )
    };
    feature(
        &mut w,
        r#"{"code":"640100000000","name":"省会市","level":"city"}"#.into(),
        "null".into(),
    )?;
    let mut made = 0;
    'outer: for county in 1..=20 {
        let kcode = format!("6401{county:02}");
        feature(
            &mut w,
            format!(
                r#"{{"code":"{kcode}000000","name":"第{county}区","level":"county","parent_code":"640100000000"}}"#
            ),
            "null".into(),
        )?;
        for town in 1..=50 {
            let tcode = format!("{kcode}{town:03}");
            feature(
                &mut w,
                format!(
                    r#"{{"code":"{tcode}000","name":"第{town}街道","level":"township","parent_code":"{kcode}000000"}}"#
                ),
                "null".into(),
            )?;
            for c in 1..=communities_per_township {
                if made >= grids {
                    break 'outer;
                }
                let ccode = format!("{tcode}{c:03}");
                let k = made / 2;
                let (col, row) = (k % 500, k / 500);
                let (x0, y0) = (100.0 + col as f64 * cw, 30.0 + row as f64 * ch);
                let (x1, y1) = (x0 + cw, y0 + ch);
                let split = x0 + cw * (0.35 + 0.3 * ((k * 7919) % 100) as f64 / 100.0);
                let split_top = x0 + cw * (0.35 + 0.3 * ((k * 104_729) % 100) as f64 / 100.0);
                let rect = format!(
                    r#"{{"type":"Polygon","coordinates":[[[{x0},{y0}],[{x1},{y0}],[{x1},{y1}],[{x0},{y1}],[{x0},{y0}]]]}}"#
                );
                feature(
                    &mut w,
                    format!(
                        r#"{{"code":"{ccode}","name":"第{c}社区","level":"community","parent_code":"{tcode}000"}}"#
                    ),
                    rect,
                )?;
                let west = format!(
                    r#"{{"type":"Polygon","coordinates":[[[{x0},{y0}],[{split},{y0}],[{split_top},{y1}],[{x0},{y1}],[{x0},{y0}]]]}}"#
                );
                let east = format!(
                    r#"{{"type":"Polygon","coordinates":[[[{split},{y0}],[{x1},{y0}],[{x1},{y1}],[{split_top},{y1}],[{split},{y0}]]]}}"#
                );
                feature(
                    &mut w,
                    format!(
                        r#"{{"code":"{ccode}001","name":"第1网格","level":"grid","parent_code":"{ccode}","grid_type":"basic"}}"#
                    ),
                    west,
                )?;
                feature(
                    &mut w,
                    format!(
                        r#"{{"code":"{ccode}002","name":"第2网格","level":"grid","parent_code":"{ccode}","grid_type":"basic"}}"#
                    ),
                    east,
                )?;
                made += 2;
            }
        }
    }
    write!(w, "]}}")?;
    w.flush()?;
    eprintln!("wrote {made} grids to {out}");
    Ok(())
}
