//! The registers over HTTP, on both databases: the template and export are workbooks to save, an
//! import is a file as the body (checked whole, with every problem in the one error shape, a dry
//! run writing nothing, over 20 MB refused with 413), and the pickers search by name.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use support::World;
use wangge_store::testing::TestBackend;

const HEADER: &str = "部门编码*,部门名称*,部门类别*,所属区划代码*,上级部门编码,服务区域代码,状态";

fn upload(uri: &str, token: &str, body: Vec<u8>) -> Request<Body> {
    Request::post(uri)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/octet-stream")
        .body(Body::from(body))
        .unwrap()
}

async fn registers_over_http(backend: TestBackend) {
    let w = World::new(backend).await;
    let county = w.communities("", 1)[0][..6].to_string() + "000000";
    let t = w.token("cc.reg", "command_centre", &county).await;

    let template = w
        .send(
            Request::get("/api/v1/registry/departments/template.xlsx")
                .header("authorization", format!("Bearer {t}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(template.status, StatusCode::OK);
    assert_eq!(
        template.headers["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(
        template.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("departments-template.xlsx")
    );
    assert!(
        w.app_bytes("/api/v1/registry/departments/export.xlsx", &t)
            .await
            .starts_with(b"PK\x03\x04")
    );

    let good = format!("{HEADER}\nSW-01,大武口自来水公司,自来水公司,{county},,,\n");
    let dry = w
        .send(upload(
            "/api/v1/registry/departments/import?dry_run=true",
            &t,
            good.clone().into_bytes(),
        ))
        .await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.body);
    assert_eq!(dry.body["dry_run"], true);
    assert_eq!(dry.body["created"], 1);
    let none = w.get("/api/v1/registry/departments?q=自来水", &t).await;
    assert_eq!(none.body["total"], 0, "{}", none.body);

    let done = w
        .send(upload(
            "/api/v1/registry/departments/import",
            &t,
            good.into_bytes(),
        ))
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.body["created"], 1);
    let found = w.get("/api/v1/registry/departments?q=自来水", &t).await;
    assert_eq!(found.body["total"], 1, "{}", found.body);
    assert_eq!(found.body["departments"][0]["kind"], "water_supply");
    assert_eq!(
        found.body["departments"][0]["region"]["code"],
        county.as_str()
    );

    let bad = format!("{HEADER}\nSW-02,,自来水公司,{county},,,\n");
    let r = w
        .send(upload(
            "/api/v1/registry/departments/import",
            &t,
            bad.into_bytes(),
        ))
        .await;
    r.assert_error(StatusCode::BAD_REQUEST, "registry.invalid");
    let p = &r.body["error"]["details"]["problems"][0];
    assert_eq!(
        (p["row"].as_u64(), p["column"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(p["header"], "部门名称");

    let huge = vec![b'a'; 25 * 1024 * 1024];
    w.send(upload("/api/v1/registry/departments/import", &t, huge))
        .await
        .assert_error(StatusCode::PAYLOAD_TOO_LARGE, "registry.too_large");
    w.get("/api/v1/registry/martians", &t)
        .await
        .assert_error(StatusCode::NOT_FOUND, "registry.unknown_kind");
    w.get("/api/v1/registry/departments?limit=0", &t)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "registry.bad_limit");
    w.finish().await;
}

wangge_store::both_backends!(registers_over_http);
