//! What an administrator may change without a new release: the category catalogue's names,
//! urgencies, departments and limits; routing (category × place → department, a township's rule
//! before its county's); who hears about what (notification rules); office hours per county; and
//! the share of a step's time below which its light turns yellow.
//!
//! One document, validated here as a whole before anything is stored, so a bad edit is refused
//! with every problem and where it is, and changes nothing. The defaults reproduce the shipped
//! behaviour, so a city that never edits anything runs on them.

use crate::calendar::{Limit, OfficeHours, YELLOW_SHARE};
use crate::catalog::{Category, StepLimits};
use crate::org::DepartmentKind;
use crate::region::RegionCode;
use crate::workflow::{Flow, HolderLevel, Recipient, State, Urgency, region_of};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// A step turns yellow when less than this share of its time is left.
    #[serde(default = "default_yellow_share")]
    pub yellow_share: f64,
    /// Office hours by county code (12 digits), e.g. `"08:00-12:00,14:00-17:30"`; counties not
    /// listed keep the default 08:30–12:00 and 14:30–18:00.
    #[serde(default)]
    pub office_hours: BTreeMap<String, String>,
    /// Changes to shipped categories, by code.
    #[serde(default)]
    pub categories: Vec<CategoryChange>,
    /// Which department handles a category in a place.
    #[serde(default)]
    pub routing: Vec<Route>,
    /// Who is told when a step turns yellow or red.
    #[serde(default = "default_notifications")]
    pub notifications: Vec<NotificationRule>,
    /// People's mediation: how the success rate is printed, and the days a case has.
    #[serde(default)]
    pub mediation: MediationSettings,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MediationSettings {
    /// Truncated to one decimal by default, as the published figures are (96.8%).
    #[serde(default)]
    pub rate_display: crate::mediation::RateDisplay,
    /// Days from opening a case to its deadline (one month by default).
    #[serde(default = "default_case_days")]
    pub case_days: i64,
}

fn default_case_days() -> i64 {
    crate::mediation::DEFAULT_CASE_DAYS
}

impl Default for MediationSettings {
    fn default() -> Self {
        MediationSettings {
            rate_display: Default::default(),
            case_days: default_case_days(),
        }
    }
}

fn default_yellow_share() -> f64 {
    YELLOW_SHARE
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            yellow_share: YELLOW_SHARE,
            office_hours: BTreeMap::new(),
            categories: Vec::new(),
            routing: Vec::new(),
            notifications: default_notifications(),
            mediation: MediationSettings::default(),
        }
    }
}

/// An edit of one shipped category; fields left out keep their value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryChange {
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urgency: Option<Urgency>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<DepartmentKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept: Option<Limit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_in: Option<Limit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handle: Option<Limit>,
}

/// Category × region → department. The region is a county (`640202000000`) or a township
/// (`640202001000`); for an event the township's rule wins over the county's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Route {
    pub category: String,
    pub region: String,
    pub department: String,
}

/// When a step's light changes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    Yellow,
    Red,
}

/// Who, relative to the event, hears about it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Whoever holds the running step: the lead department, or the office of the level holding it.
    Holder,
    /// For a step held by a department, the level that dispatched it.
    Dispatcher,
    /// The level above the one holding (or that dispatched) the step.
    LevelAbove,
}

/// Where a notice goes besides being recorded.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The server log and the notices table (always available).
    Log,
    /// The intranet webhook, when one is configured.
    Webhook,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationRule {
    pub on: Trigger,
    pub to: Audience,
    pub channels: Vec<Channel>,
}

/// The shipped rules: yellow to the holder; red also to the dispatcher and the level above.
pub fn default_notifications() -> Vec<NotificationRule> {
    let rule = |on, to| NotificationRule {
        on,
        to,
        channels: vec![Channel::Log, Channel::Webhook],
    };
    vec![
        rule(Trigger::Yellow, Audience::Holder),
        rule(Trigger::Red, Audience::Holder),
        rule(Trigger::Red, Audience::Dispatcher),
        rule(Trigger::Red, Audience::LevelAbove),
    ]
}

/// One thing wrong with a settings document: where, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub path: String,
    pub reason: String,
}

fn bad(out: &mut Vec<Problem>, path: String, reason: String) {
    out.push(Problem { path, reason });
}

fn known(catalogue: &[Category], code: &str) -> bool {
    catalogue.iter().any(|c| c.code == code)
}

fn limit_ok(l: &Limit) -> bool {
    match *l {
        Limit::Minutes(m) => (1..=60 * 24 * 90).contains(&m),
        Limit::WorkingMinutes(m) => (1..=60 * 8 * 60).contains(&m),
        Limit::WorkingDays(d) => (1..=180).contains(&d),
    }
}

impl Settings {
    /// Every problem of the document against the shipped catalogue; empty when it may be stored.
    /// `department_exists` says whether a routing target is a known department id.
    pub fn problems(
        &self,
        catalogue: &[Category],
        department_exists: &dyn Fn(&str) -> bool,
    ) -> Vec<Problem> {
        let mut out = Vec::new();
        self.mediation_problems(&mut out);
        self.yellow_share_problems(&mut out);
        self.office_hours_problems(&mut out);
        self.category_problems(catalogue, &mut out);
        self.routing_problems(catalogue, department_exists, &mut out);
        self.notification_problems(&mut out);
        out
    }

    fn mediation_problems(&self, out: &mut Vec<Problem>) {
        if self.mediation.rate_display.decimals > 4 {
            bad(
                out,
                "mediation.rate_display.decimals".into(),
                format!("应为 0–4，收到 {}", self.mediation.rate_display.decimals),
            );
        }
        if !(1..=365).contains(&self.mediation.case_days) {
            bad(
                out,
                "mediation.case_days".into(),
                format!("应为 1–365 天，收到 {}", self.mediation.case_days),
            );
        }
    }

    fn yellow_share_problems(&self, out: &mut Vec<Problem>) {
        if !(0.05..=0.9).contains(&self.yellow_share) || !self.yellow_share.is_finite() {
            bad(
                out,
                "yellow_share".into(),
                format!("应在 0.05–0.9 之间，收到 {}", self.yellow_share),
            );
        }
    }

    fn office_hours_problems(&self, out: &mut Vec<Problem>) {
        for (county, hours) in &self.office_hours {
            let path = format!("office_hours.{county}");
            let is_county = RegionCode::parse(county).is_ok()
                && county.ends_with("000000")
                && !county.ends_with("00000000");
            if !is_county {
                bad(out, path.clone(), "应为区县的12位行政区划代码".into());
            }
            if OfficeHours::parse(hours).is_err() {
                bad(
                    out,
                    path,
                    format!("办公时间格式应为 08:30-12:00,14:30-18:00，收到 \"{hours}\""),
                );
            }
        }
    }

    fn category_problems(&self, catalogue: &[Category], out: &mut Vec<Problem>) {
        let mut seen = std::collections::BTreeSet::new();
        for (i, c) in self.categories.iter().enumerate() {
            let path = format!("categories[{i}]");
            if !known(catalogue, &c.code) {
                bad(
                    out,
                    format!("{path}.code"),
                    format!("未知事件类别 \"{}\"", c.code),
                );
            }
            if !seen.insert(&c.code) {
                bad(
                    out,
                    format!("{path}.code"),
                    format!("类别 \"{}\" 重复", c.code),
                );
            }
            if let Some(n) = &c.name
                && (n.trim().is_empty() || n.chars().count() > 40)
            {
                bad(out, format!("{path}.name"), "名称应为1–40个字".into());
            }
            for (field, l) in [
                ("accept", &c.accept),
                ("check_in", &c.check_in),
                ("handle", &c.handle),
            ] {
                if let Some(l) = l
                    && !limit_ok(l)
                {
                    bad(
                        out,
                        format!("{path}.{field}"),
                        format!("时限超出允许范围：{l:?}"),
                    );
                }
            }
        }
    }

    fn routing_problems(
        &self,
        catalogue: &[Category],
        department_exists: &dyn Fn(&str) -> bool,
        out: &mut Vec<Problem>,
    ) {
        let mut routes = std::collections::BTreeSet::new();
        for (i, r) in self.routing.iter().enumerate() {
            let path = format!("routing[{i}]");
            if !known(catalogue, &r.category) {
                bad(
                    out,
                    format!("{path}.category"),
                    format!("未知事件类别 \"{}\"", r.category),
                );
            }
            let place_ok = RegionCode::parse(&r.region).is_ok()
                && r.region.ends_with("000")
                && !r.region.ends_with("00000000");
            if !place_ok {
                bad(
                    out,
                    format!("{path}.region"),
                    "应为区县或乡镇街道的12位代码".into(),
                );
            }
            if !department_exists(&r.department) {
                bad(
                    out,
                    format!("{path}.department"),
                    format!("部门 {} 不存在", r.department),
                );
            }
            if !routes.insert((&r.category, &r.region)) {
                bad(
                    out,
                    path,
                    format!("类别 {} 在 {} 已有规则", r.category, r.region),
                );
            }
        }
    }

    fn notification_problems(&self, out: &mut Vec<Problem>) {
        for (i, n) in self.notifications.iter().enumerate() {
            if n.channels.is_empty() {
                bad(
                    out,
                    format!("notifications[{i}].channels"),
                    "至少需要一个渠道".into(),
                );
            }
        }
    }

    /// The shipped catalogue with this document's changes.
    pub fn catalogue(&self, shipped: &[Category]) -> Vec<Category> {
        let mut out = shipped.to_vec();
        for ch in &self.categories {
            if let Some(c) = out.iter_mut().find(|c| c.code == ch.code) {
                if let Some(n) = &ch.name {
                    c.name = n.trim().to_string();
                }
                if let Some(u) = ch.urgency {
                    c.urgency = u;
                }
                if let Some(d) = ch.department {
                    c.department = d;
                }
                c.limits = StepLimits {
                    accept: ch.accept.unwrap_or(c.limits.accept),
                    check_in: ch.check_in.unwrap_or(c.limits.check_in),
                    handle: ch.handle.unwrap_or(c.limits.handle),
                    verify: c.limits.verify,
                };
            }
        }
        out
    }

    /// The office hours of a county, if it keeps its own.
    pub fn office_hours_of(&self, county: &str) -> Option<OfficeHours> {
        self.office_hours
            .get(county)
            .and_then(|h| OfficeHours::parse(h).ok())
    }

    /// The department a township's rule, else its county's, sends a category to.
    pub fn route(&self, category: &str, grid_code: &str) -> Option<&str> {
        let township = region_of(grid_code, HolderLevel::Township);
        let county = region_of(grid_code, HolderLevel::County);
        [township, county].iter().find_map(|place| {
            self.routing
                .iter()
                .find(|r| r.category == category && &r.region == place)
                .map(|r| r.department.as_str())
        })
    }

    /// Who hears that an event's step turned yellow or red, on which channels, by the rules.
    pub fn recipients(
        &self,
        f: &Flow,
        grid_code: &str,
        on: Trigger,
    ) -> Vec<(Recipient, Vec<Channel>)> {
        let held_by_department = matches!(f.state, State::Dispatched | State::Handling)
            && !f.handled_here
            && f.lead.is_some();
        let level = if matches!(f.state, State::Handled) || f.handled_here {
            HolderLevel::Community
        } else {
            f.holder
        };
        let mut out: Vec<(Recipient, Vec<Channel>)> = Vec::new();
        for rule in self.notifications.iter().filter(|r| r.on == on) {
            let who: Vec<Recipient> = match rule.to {
                Audience::Holder if held_by_department => {
                    f.lead.iter().cloned().map(Recipient::Department).collect()
                }
                Audience::Holder => vec![Recipient::Region(region_of(grid_code, level))],
                Audience::Dispatcher if held_by_department => {
                    vec![Recipient::Region(region_of(grid_code, level))]
                }
                Audience::Dispatcher => Vec::new(),
                Audience::LevelAbove => level
                    .above()
                    .map(|up| Recipient::Region(region_of(grid_code, up)))
                    .into_iter()
                    .collect(),
            };
            for r in who {
                match out.iter_mut().find(|(x, _)| *x == r) {
                    Some((_, channels)) => {
                        for c in &rule.channels {
                            if !channels.contains(c) {
                                channels.push(*c);
                            }
                        }
                    }
                    None => out.push((r, rule.channels.clone())),
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
