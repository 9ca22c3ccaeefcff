//! The team register (网格团队台账): who serves in each grid's "1+4+X" team (one grid leader; the
//! community police, legal adviser, urban-management officer and health officer; the grid worker;
//! volunteers) and in each community police office's "1+N+X" team (one community officer;
//! auxiliary police and grid workers; volunteers). A member is a person of the people register,
//! named by ID-card number; a row is keyed by its team, place and person, so a changed role
//! updates it and 离职 takes the person off the team.

use super::{Column, Layout, Problem, Row, Sheet, mask_personal, status};
use crate::org::{TeamKind, TeamRole, Vocabulary};
use std::collections::HashMap;

pub const TEAM: &str = "团队类型";
pub const PLACE: &str = "网格或社区编码";
pub const ID_NUMBER: &str = "身份证号";
pub const NAME: &str = "姓名";
pub const ROLE: &str = "团队角色";
pub const STATUS: &str = "状态";

pub const COLUMNS: &[Column] = &[
    Column {
        header: TEAM,
        required: true,
        text: false,
        personal: false,
        help: "网格团队（1+4+X）按网格组建；警务团队（1+N+X）按社区组建（社区警务室）",
        choices: Some(TeamKind::labels),
        width: 20.0,
    },
    Column {
        header: PLACE,
        required: true,
        text: true,
        personal: false,
        help: "网格团队填 15 位网格编码；警务团队填社区（村）的 12 位区划代码",
        choices: None,
        width: 18.0,
    },
    Column {
        header: ID_NUMBER,
        required: true,
        text: true,
        personal: true,
        help: "成员的身份证号，设为文本格式；成员须已在人员台账中",
        choices: None,
        width: 22.0,
    },
    Column {
        header: NAME,
        required: false,
        text: false,
        personal: false,
        help: "成员姓名，便于核对；若填写，须与人员台账一致",
        choices: None,
        width: 12.0,
    },
    Column {
        header: ROLE,
        required: true,
        text: false,
        personal: false,
        help: "网格团队：网格长（每格 1 名）、社区民警、法律顾问、城管队员、卫健专干、网格员、志愿者；警务团队：社区民警（1 名）、辅警、网格员、志愿者",
        choices: Some(TeamRole::labels),
        width: 12.0,
    },
    Column {
        header: STATUS,
        required: false,
        text: false,
        personal: false,
        help: "在职或离职，为空表示在职；离职即退出该团队",
        choices: Some(|| vec!["在职", "离职"]),
        width: 10.0,
    },
];

/// A team member as one row describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberRecord {
    pub row: u32,
    pub team: TeamKind,
    /// A grid code (grid team) or a community code (policing team).
    pub place: String,
    pub id_number: String,
    pub role: TeamRole,
    /// False: take the person off the team.
    pub active: bool,
}

/// What a place code names, for the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaceKind {
    Grid,
    Community,
    Other,
}

/// What the checks need from the city as stored.
pub trait KnownMembers {
    fn place_kind(&self, code: &str) -> Option<PlaceKind>;
    fn in_scope(&self, code: &str) -> bool;
    /// The person's name in the register, if they are in it.
    fn person_name(&self, id_number: &str) -> Option<String>;
}

/// The roles a team may have, and the one role held by a single person.
fn roles(team: TeamKind) -> (&'static [TeamRole], TeamRole) {
    match team {
        TeamKind::Grid => (
            &[
                TeamRole::GridLeader,
                TeamRole::CommunityPolice,
                TeamRole::LegalAdviser,
                TeamRole::UrbanManagementOfficer,
                TeamRole::HealthOfficer,
                TeamRole::GridWorker,
                TeamRole::AuxiliaryPolice,
                TeamRole::Volunteer,
            ],
            TeamRole::GridLeader,
        ),
        TeamKind::Policing => (
            &[
                TeamRole::CommunityPolice,
                TeamRole::AuxiliaryPolice,
                TeamRole::GridWorker,
                TeamRole::Volunteer,
            ],
            TeamRole::CommunityPolice,
        ),
    }
}

/// Reads and checks the whole sheet: the records, or every problem found.
pub fn read(sheet: &Sheet, known: &dyn KnownMembers) -> Result<Vec<MemberRecord>, Vec<Problem>> {
    let mut problems = Vec::new();
    let Some(layout) = Layout::of(sheet, COLUMNS, &mut problems) else {
        return Err(problems);
    };
    let mut records: Vec<MemberRecord> = Vec::new();
    let mut seen: HashMap<(TeamKind, String, String), u32> = HashMap::new();
    let mut single: HashMap<(TeamKind, String), u32> = HashMap::new();
    for (number, cells) in layout.rows() {
        let before = problems.len();
        let mut row = layout.row(number, cells, &mut problems);
        let Some(r) = read_row(&mut row, known) else {
            continue;
        };
        let key = (r.team, r.place.clone(), r.id_number.clone());
        if let Some(first) = seen.get(&key) {
            row.problem(
                Some(ID_NUMBER),
                format!(
                    "{} 已在第{first}行列为该团队成员",
                    mask_personal(&r.id_number)
                ),
            );
        } else {
            seen.insert(key, number);
        }
        let (_, one) = roles(r.team);
        if r.active && r.role == one {
            if let Some(first) = single.get(&(r.team, r.place.clone())) {
                row.problem(
                    Some(ROLE),
                    format!(
                        "{} {} 只能有 1 名{}（第{first}行已有）",
                        r.team.label_zh(),
                        r.place,
                        one.label_zh()
                    ),
                );
            } else {
                single.insert((r.team, r.place.clone()), number);
            }
        }
        if problems.len() == before {
            records.push(r);
        }
    }
    if problems.is_empty() {
        Ok(records)
    } else {
        problems.sort_by_key(|p| (p.row, p.column));
        Err(problems)
    }
}

fn read_row(row: &mut Row, known: &dyn KnownMembers) -> Option<MemberRecord> {
    let team = row.choice::<TeamKind>(TEAM);
    let place = row.text(PLACE);
    if let (Some(t), Some(p)) = (team, &place) {
        let want = match t {
            TeamKind::Grid => PlaceKind::Grid,
            TeamKind::Policing => PlaceKind::Community,
        };
        match known.place_kind(p) {
            None => row.problem(Some(PLACE), format!("{p} 不是已导入的网格或区划")),
            Some(k) if k != want => row.problem(
                Some(PLACE),
                match t {
                    TeamKind::Grid => format!("网格团队应填 15 位网格编码，{p} 不是网格"),
                    TeamKind::Policing => {
                        format!("警务团队应填社区（村）的区划代码，{p} 不是社区（村）")
                    }
                },
            ),
            Some(_) if !known.in_scope(p) => {
                row.problem(Some(PLACE), format!("{p} 不在您的管辖范围内"))
            }
            Some(_) => {}
        }
    }
    let id = row.id_number(ID_NUMBER);
    let name = row.bounded(NAME, 50);
    if let Some(id) = &id {
        match known.person_name(id) {
            None => row.problem(
                Some(ID_NUMBER),
                format!(
                    "身份证号 {} 不在人员台账中（请先导入人员）",
                    mask_personal(id)
                ),
            ),
            Some(stored) => {
                if let Some(n) = &name
                    && *n != stored
                {
                    row.problem(
                        Some(NAME),
                        format!("姓名“{n}”与人员台账中该身份证号的姓名不一致"),
                    );
                }
            }
        }
    }
    let role = row.choice::<TeamRole>(ROLE);
    if let (Some(t), Some(r)) = (team, role)
        && !roles(t).0.contains(&r)
    {
        row.problem(
            Some(ROLE),
            format!("{}没有“{}”这一角色", t.label_zh(), r.label_zh()),
        );
    }
    let active = status(row, STATUS);
    Some(MemberRecord {
        row: row.number,
        team: team?,
        place: place?,
        id_number: id?,
        role: role?,
        active,
    })
}
