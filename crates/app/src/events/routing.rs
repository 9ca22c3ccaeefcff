//! Routing (分拨): which departments may take an event — those whose area contains its place: its
//! township's, its county's and the city's — and which one the rules suggest: the administrator's
//! routing rule for its township, else its county; else the department of the category's kind
//! serving its township, else its county, else the city. A suggestion; the dispatcher decides.

use super::views::DepartmentRef;
use crate::context::Context;
use crate::error::AppResult;
use wangge_domain::workflow::{HolderLevel, region_of};
use wangge_store::{DepartmentRow, EventRow};

fn describe(d: &DepartmentRow) -> DepartmentRef {
    DepartmentRef {
        id: d.id,
        name: d.name.clone(),
        kind: d.kind.clone(),
    }
}

/// The departments serving an event's place, nearest first: its township's, its county's, the
/// city's.
pub async fn serving(ctx: &Context, e: &EventRow) -> AppResult<Vec<DepartmentRow>> {
    let places = [
        region_of(&e.grid_code, HolderLevel::Township),
        region_of(&e.grid_code, HolderLevel::County),
        region_of(&e.grid_code, HolderLevel::City),
    ];
    Ok(ctx.store.departments_serving(&places).await?)
}

/// The department the rules suggest for an event.
pub async fn routed(ctx: &Context, e: &EventRow) -> AppResult<Option<DepartmentRef>> {
    let config = ctx.config.get();
    if let Some(named) = config.settings.route(&e.category_code, &e.grid_code)
        && let Some(d) = crate::registry::departments::find(ctx, named).await?
        && d.serves(&e.grid_code)
        && let Some(d) = ctx.store.department(d.id).await?
    {
        return Ok(Some(describe(&d)));
    }
    let Some(category) = config.category(&e.category_code) else {
        return Ok(None);
    };
    let serving = serving(ctx, e).await?;
    Ok(serving
        .iter()
        .find(|d| d.kind == category.department.as_str())
        .map(describe))
}
