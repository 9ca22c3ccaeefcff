use super::*;
use serde_json::json;

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]})
}

fn feature(code: &str, name: &str, level: &str, parent: Option<&str>, geometry: Value) -> Value {
    json!({"type": "Feature", "properties": {"code": code, "name": name, "level": level, "parent_code": parent}, "geometry": geometry})
}

fn grid(code: &str, parent: &str, geometry: Value) -> Value {
    json!({"type": "Feature", "properties": {"code": code, "name": format!("网格{code}"), "level": "grid", "parent_code": parent, "grid_type": "basic"}, "geometry": geometry})
}

fn base() -> Vec<Value> {
    vec![
        feature("640200000000", "石嘴山市", "city", None, Value::Null),
        feature(
            "640202000000",
            "大武口区",
            "county",
            Some("640200000000"),
            Value::Null,
        ),
        feature(
            "640202001000",
            "长胜街道",
            "township",
            Some("640202000000"),
            Value::Null,
        ),
        feature(
            "640202001001",
            "长胜社区",
            "community",
            Some("640202001000"),
            rect(106.0, 39.0, 106.02, 39.01),
        ),
    ]
}

fn collection(features: Vec<Value>) -> Value {
    json!({"type": "FeatureCollection", "features": features})
}

fn check(features: Vec<Value>) -> Result<Plan, Vec<Problem>> {
    check_geojson(&collection(features), &[], &[], ImportOptions::default())
}

fn reasons(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("#{} {:?}: {}", p.index, p.code, p.reason))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_valid_tree_becomes_a_plan() {
    let mut f = base();
    f.push(grid(
        "640202001001001",
        "640202001001",
        rect(106.0, 39.0, 106.01, 39.01),
    ));
    f.push(grid(
        "640202001001002",
        "640202001001",
        rect(106.01, 39.0, 106.02, 39.01),
    ));
    let plan = check(f).unwrap();
    assert_eq!(plan.regions.len(), 4);
    assert_eq!(plan.grids.len(), 2);
}

/// Each invalid input yields a problem naming the feature's index, its code and the reason.
#[test]
fn every_problem_is_reported_with_index_and_code() {
    let mut f = base();
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            grid(
                "640202001001001",
                "640202001001",
                json!({"type": "LineString", "coordinates": [[106.0, 39.0], [106.01, 39.0]]}),
            ),
            "640202001001001",
            "Polygon",
        ),
        (
            grid(
                "640202001001002",
                "640202001001",
                json!({"type": "Polygon", "coordinates": [[[106.0, 39.0], [106.01, 39.0], [106.01, 39.01], [106.0, 39.01]]]}),
            ),
            "640202001001002",
            "未闭合",
        ),
        (
            grid(
                "640202001001003",
                "640202001001",
                json!({"type": "Polygon", "coordinates": [[[106.0, 39.0], [106.01, 39.0], [106.0, 39.0]]]}),
            ),
            "640202001001003",
            "少于4",
        ),
        (
            grid(
                "640202001001004",
                "640202001001",
                json!({"type": "Polygon", "coordinates": [[[106.0, 39.0], [106.01, 39.01], [106.01, 39.0], [106.0, 39.01], [106.0, 39.0]]]}),
            ),
            "640202001001004",
            "自相交",
        ),
        (
            grid(
                "640202001001005",
                "640202001001",
                rect(186.0, 39.0, 186.01, 39.01),
            ),
            "640202001001005",
            "超出经纬度范围",
        ),
        (
            grid(
                "640202001001006",
                "640202001001",
                rect(106.0, 39.0, 106.005, 39.005),
            ),
            "640202001001006",
            "",
        ),
        (
            grid(
                "640202001001006",
                "640202001001",
                rect(106.01, 39.0, 106.015, 39.005),
            ),
            "640202001001006",
            "代码重复",
        ),
        (
            grid(
                "640202009001001",
                "640202009001",
                rect(106.0, 39.0, 106.005, 39.005),
            ),
            "640202009001001",
            "不存在",
        ),
        (
            grid(
                "640202001002001",
                "640202001001",
                rect(106.0, 39.0, 106.005, 39.005),
            ),
            "640202001002001",
            "不以上级社区代码",
        ),
        (
            feature(
                "640205001000",
                "别处街道",
                "township",
                Some("640202000000"),
                Value::Null,
            ),
            "640205001000",
            "有效前缀",
        ),
        (
            grid(
                "640202001001007",
                "640202001001",
                rect(106.015, 39.005, 106.03, 39.02),
            ),
            "640202001001007",
            "超出所属社区",
        ),
        (
            grid(
                "640202001001008",
                "640202001001",
                rect(106.003, 39.003, 106.008, 39.008),
            ),
            "640202001001008",
            "重叠",
        ),
        (
            feature(
                "640202001002",
                "",
                "community",
                Some("640202001000"),
                Value::Null,
            ),
            "640202001002",
            "名称",
        ),
        (
            feature(
                "640202001003",
                "某社区",
                "township",
                Some("640202001000"),
                Value::Null,
            ),
            "640202001003",
            "与 level",
        ),
        (
            json!({"type": "Feature", "properties": {"code": "640202001001009", "name": "x", "level": "grid", "parent_code": "640202001001", "grid_type": "special"}, "geometry": rect(106.0, 39.0, 106.001, 39.001)}),
            "640202001001009",
            "网格类型",
        ),
        (
            feature(
                "640202001004",
                "某村",
                "hamlet",
                Some("640202001000"),
                Value::Null,
            ),
            "640202001004",
            "未知层级",
        ),
        (
            grid(
                "64020200100101",
                "640202001001",
                rect(106.0, 39.0, 106.001, 39.001),
            ),
            "64020200100101",
            "15位",
        ),
        (
            json!({"type": "Feature", "properties": {"code": "640202001001010", "name": "x", "level": "grid", "parent_code": "640202001001"}, "geometry": {"type": "Polygon", "coordinates": [[[106.0, 39.0], [106.001, "39"], [106.001, 39.001], [106.0, 39.0]]]}}),
            "640202001001010",
            "有效数字",
        ),
    ];
    let first = f.len();
    for (feat, _, _) in &cases {
        f.push(feat.clone());
    }
    let problems = check(f).unwrap_err();
    let text = reasons(&problems);
    for (k, (_, code, needle)) in cases.iter().enumerate() {
        if needle.is_empty() {
            continue;
        }
        let index = first + k;
        assert!(
            problems.iter().any(|p| p.index == index
                && p.code.as_deref() == Some(*code)
                && p.reason.contains(needle)),
            "feature #{index} ({code}) should be reported with \"{needle}\"; got:\n{text}"
        );
    }
}

#[test]
fn grids_sharing_a_border_do_not_overlap() {
    let mut f = base();
    // Slanted shared edge: a tiling that is not axis-aligned.
    f.push(grid("640202001001001", "640202001001", json!({"type": "Polygon", "coordinates": [[[106.0, 39.0], [106.012, 39.0], [106.008, 39.01], [106.0, 39.01], [106.0, 39.0]]]})));
    f.push(grid("640202001001002", "640202001001", json!({"type": "Polygon", "coordinates": [[[106.012, 39.0], [106.02, 39.0], [106.02, 39.01], [106.008, 39.01], [106.012, 39.0]]]})));
    assert!(check(f).is_ok());
}

#[test]
fn new_grids_are_checked_against_stored_ones() {
    let plan = check({
        let mut f = base();
        f.push(grid(
            "640202001001001",
            "640202001001",
            rect(106.0, 39.0, 106.01, 39.01),
        ));
        f
    })
    .unwrap();
    let overlapping = collection(vec![grid(
        "640202001001002",
        "640202001001",
        rect(106.005, 39.0, 106.015, 39.01),
    )]);
    let problems = check_geojson(
        &overlapping,
        &plan.regions,
        &plan.grids,
        ImportOptions::default(),
    )
    .unwrap_err();
    assert!(
        problems[0].reason.contains("640202001001001"),
        "{}",
        reasons(&problems)
    );
    // Re-importing a stored grid with a corrected shape replaces it rather than overlapping it.
    let replace = collection(vec![grid(
        "640202001001001",
        "640202001001",
        rect(106.0, 39.0, 106.008, 39.01),
    )]);
    assert!(
        check_geojson(
            &replace,
            &plan.regions,
            &plan.grids,
            ImportOptions::default()
        )
        .is_ok()
    );
}

#[test]
fn not_a_feature_collection_is_one_clear_problem() {
    for bad in [
        json!([]),
        json!({"type": "Feature"}),
        json!({"type": "FeatureCollection"}),
    ] {
        let problems = check_geojson(&bad, &[], &[], ImportOptions::default()).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert!(problems[0].reason.contains("FeatureCollection"));
    }
}
