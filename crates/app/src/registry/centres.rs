//! The centre register as use cases: the departments stationed at or visiting each 综治中心 and
//! the legal advisers of each legal-service centre, station and room — imported, exported and
//! listed by centre.

use super::{ImportReport, Shown, label, query_text, unit_place};
use crate::context::Context;
use crate::error::AppResult;
use crate::principal::Principal;
use serde::Serialize;
use std::collections::HashMap;
use uuid::Uuid;
use wangge_domain::access::{Permission, Visibility};
use wangge_domain::org::{PersonKind, UnitKind};
use wangge_domain::registers::centres::{self as sheet, KnownCentres, LinkKind, days_zh};
use wangge_domain::registers::{RegisterKind, Sheet};
use wangge_store::{CentreLink, NewPerson, NewUnit};

struct Known<'a> {
    ctx: &'a Context,
    area: &'a Visibility,
    units: &'a HashMap<String, NewUnit>,
    departments: &'a HashMap<String, Uuid>,
    people: &'a HashMap<String, &'a NewPerson>,
}

impl KnownCentres for Known<'_> {
    fn unit(&self, code: &str) -> Option<(UnitKind, bool)> {
        let u = self.units.get(code)?;
        Some((u.kind.parse().ok()?, self.area.sees(unit_place(u))))
    }
    fn department_exists(&self, code: &str) -> bool {
        self.departments.contains_key(code)
    }
    fn adviser(&self, id_number: &str) -> Option<bool> {
        let idx = self.ctx.keys.blind_index("id_number", id_number);
        self.people
            .get(&idx)
            .map(|p| p.kind == PersonKind::LegalAdviser.as_str())
    }
}

fn days_wire(days: &[u8]) -> String {
    days.iter().map(u8::to_string).collect::<Vec<_>>().join(",")
}

fn days_of(wire: &str) -> Vec<u8> {
    wire.split(',').filter_map(|d| d.parse().ok()).collect()
}

pub(super) async fn import(
    ctx: &Context,
    area: &Visibility,
    sheet: &Sheet,
    dry_run: bool,
) -> AppResult<ImportReport> {
    let units: HashMap<String, NewUnit> = ctx
        .store
        .unit_register()
        .await?
        .into_iter()
        .map(|u| (u.code.clone(), u))
        .collect();
    let departments: HashMap<String, Uuid> = ctx
        .store
        .department_register()
        .await?
        .into_iter()
        .map(|d| (d.code, d.id))
        .collect();
    let people = ctx.store.people_register().await?;
    let by_idx: HashMap<String, &NewPerson> = people
        .iter()
        .filter_map(|p| Some((p.id_number_idx.clone()?, p)))
        .collect();
    let records = sheet::read(
        sheet,
        &Known {
            ctx,
            area,
            units: &units,
            departments: &departments,
            people: &by_idx,
        },
    )
    .map_err(super::refused)?;
    let stored: HashMap<(Uuid, Uuid), CentreLink> = ctx
        .store
        .centre_register()
        .await?
        .into_iter()
        .map(|l| ((l.unit_id, l.member_id), l))
        .collect();
    let mut report = ImportReport::new(RegisterKind::Centres, dry_run, records.len());
    let (mut remove, mut put) = (Vec::new(), Vec::new());
    for r in &records {
        // Every code and number was checked by the sheet against these same maps.
        let (Some(unit), Some(member)) = (
            units.get(&r.centre),
            match r.kind {
                LinkKind::Adviser => r
                    .id_number
                    .as_ref()
                    .and_then(|id| by_idx.get(&ctx.keys.blind_index("id_number", id)))
                    .map(|p| p.id),
                _ => r
                    .department
                    .as_ref()
                    .and_then(|d| departments.get(d))
                    .copied(),
            },
        ) else {
            continue;
        };
        let link = CentreLink {
            region_code: unit.region_code.clone(),
            unit_id: unit.id,
            member_id: member,
            kind: r.kind.as_str().into(),
            days: if r.kind == LinkKind::Visiting {
                days_wire(&r.days)
            } else {
                String::new()
            },
        };
        match (stored.get(&(unit.id, member)), r.active) {
            (None, true) => {
                report.created += 1;
                put.push(link);
            }
            (None, false) => report.unchanged += 1,
            (Some(old), true) if *old == link => report.unchanged += 1,
            (Some(_), active) => {
                report.updated += 1;
                remove.push((unit.id, member));
                if active {
                    put.push(link);
                }
            }
        }
    }
    if !dry_run && (!remove.is_empty() || !put.is_empty()) {
        ctx.store.write_centre_links(&remove, &put).await?;
    }
    Ok(report)
}

/// The links within the area, each with its centre's unit, and its member's name and code.
struct Resolved<'a> {
    link: &'a CentreLink,
    unit: &'a NewUnit,
    department: Option<(&'a str, &'a str)>,
    person: Option<&'a NewPerson>,
}

pub(super) async fn export_rows(
    ctx: &Context,
    area: &Visibility,
    shown: Shown,
) -> AppResult<Vec<Vec<String>>> {
    let data = Data::load(ctx).await?;
    data.resolved(area)
        .map(|r| {
            Ok(vec![
                r.unit.code.clone(),
                kind_of(r.link).label_zh().into(),
                r.department.map(|d| d.0.to_string()).unwrap_or_default(),
                match r.person {
                    Some(p) => shown.id_number(ctx, &p.id_number_enc)?,
                    None => String::new(),
                },
                days_zh(&days_of(&r.link.days)),
                "启用".into(),
            ])
        })
        .collect()
}

fn kind_of(l: &CentreLink) -> LinkKind {
    LinkKind::from_cell(&l.kind).unwrap_or(LinkKind::Stationed)
}

/// The register as read, for the export and the page.
struct Data {
    links: Vec<CentreLink>,
    units: HashMap<Uuid, NewUnit>,
    departments: HashMap<Uuid, (String, String)>,
    people: HashMap<Uuid, NewPerson>,
}

impl Data {
    async fn load(ctx: &Context) -> AppResult<Data> {
        Ok(Data {
            links: ctx.store.centre_register().await?,
            units: ctx
                .store
                .unit_register()
                .await?
                .into_iter()
                .map(|u| (u.id, u))
                .collect(),
            departments: ctx
                .store
                .department_register()
                .await?
                .into_iter()
                .map(|d| (d.id, (d.code, d.name)))
                .collect(),
            people: ctx
                .store
                .people_register()
                .await?
                .into_iter()
                .map(|p| (p.id, p))
                .collect(),
        })
    }

    fn resolved<'a>(&'a self, area: &'a Visibility) -> impl Iterator<Item = Resolved<'a>> + 'a {
        self.links.iter().filter_map(move |l| {
            let unit = self.units.get(&l.unit_id)?;
            area.sees(unit_place(unit)).then(|| Resolved {
                link: l,
                unit,
                department: self
                    .departments
                    .get(&l.member_id)
                    .map(|(c, n)| (c.as_str(), n.as_str())),
                person: self.people.get(&l.member_id),
            })
        })
    }
}

/// A department or an adviser of a centre, as the register's page shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CentreLinkItem {
    pub centre: String,
    pub centre_kind: String,
    pub link: String,
    /// The department's or the adviser's name.
    pub member: String,
    /// 周二、周四, for a visiting department.
    pub days: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Centres {
    /// How many match, of which at most `limit` are listed.
    pub total: usize,
    pub links: Vec<CentreLinkItem>,
}

/// The centres' departments and advisers in the caller's sight, by the centre's or the member's
/// name containing `q`.
pub async fn search(
    ctx: &Context,
    who: &Principal,
    q: Option<&str>,
    limit: usize,
) -> AppResult<Centres> {
    who.require(Permission::ReadRegistry)?;
    let vis = who.visibility()?;
    let q = query_text(q);
    let data = Data::load(ctx).await?;
    let matching: Vec<CentreLinkItem> = data
        .resolved(&vis)
        .map(|r| CentreLinkItem {
            centre: r.unit.name.clone(),
            centre_kind: label::<UnitKind>(&r.unit.kind),
            link: kind_of(r.link).label_zh().into(),
            member: r
                .department
                .map(|d| d.1.to_string())
                .or_else(|| r.person.map(|p| p.name.clone()))
                .unwrap_or_default(),
            days: days_zh(&days_of(&r.link.days)),
        })
        .filter(|i| q.is_none_or(|q| i.centre.contains(q) || i.member.contains(q)))
        .collect();
    Ok(Centres {
        total: matching.len(),
        links: matching.into_iter().take(limit).collect(),
    })
}
