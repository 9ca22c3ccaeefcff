//! People's mediation (人民调解): the vocabulary of dispute cases and the rules the People's
//! Mediation Law puts on them, free of storage and HTTP. What a written agreement must contain
//! (art. 29), when it takes effect (every party, the mediator and the committee's seal; an oral
//! agreement when it is reached), the 30-day window for judicial confirmation (art. 33), the
//! month a case has by default, the lateness of a transfer slip, and the statistics the city
//! publishes: handled = cases whose mediation ended, successful = those ended with an agreement,
//! success rate = successful ÷ handled, shown by a configurable rule (the published figures
//! truncate: 2197 ÷ 2268 = 0.96869… is printed 96.8%).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

vocabulary! {
    /// Dispute types as the judicial offices count them (DOMAIN.md §5).
    DisputeType {
        MarriageFamily = "marriage_family", "婚姻家庭";
        Neighbours = "neighbours", "邻里纠纷";
        HousingHomestead = "housing_homestead", "房屋宅基地";
        Land = "land", "山林土地";
        Contract = "contract", "合同纠纷";
        ProductionBusiness = "production_business", "生产经营";
        Damages = "damages", "损害赔偿";
        LabourWages = "labour_wages", "劳动争议（含欠薪）";
        RequisitionDemolition = "requisition_demolition", "征地拆迁";
        Environment = "environment", "环境污染";
        Consumer = "consumer", "消费纠纷";
        Medical = "medical", "医疗纠纷";
        TrafficAccident = "traffic_accident", "道路交通事故";
        PropertyManagement = "property_management", "物业纠纷";
        Other = "other", "其他";
    }
}

vocabulary! {
    /// How a case came to the committee.
    CaseSource {
        Active = "active", "主动调解";
        Applied = "applied", "申请调解";
        Entrusted = "entrusted", "委托移送调解";
    }
}

vocabulary! {
    /// Where a case was opened from.
    CaseOrigin {
        Event = "event", "网格事件";
        WalkIn = "walk_in", "来访申请";
        Transfer = "transfer", "转办单";
        Screening = "screening", "排查发现";
    }
}

vocabulary! {
    /// How a mediation ended.
    Outcome {
        AgreedWritten = "agreed_written", "调解成功（书面协议）";
        AgreedOral = "agreed_oral", "调解成功（口头协议）";
        Failed = "failed", "调解不成";
        Ended = "ended", "终止调解";
        Referred = "referred", "移交处理";
    }
}

vocabulary! {
    /// Where a case stands: being mediated, or ended (with whatever outcome).
    CaseState {
        Open = "open", "调解中";
        Closed = "closed", "已结束";
    }
}

vocabulary! {
    /// Judicial confirmation of a written agreement (司法确认, 人民调解法第33条).
    Confirmation {
        None = "none", "未申请司法确认";
        Applied = "applied", "已申请司法确认";
        Granted = "granted", "司法确认有效";
        Refused = "refused", "司法确认未获准许";
    }
}

vocabulary! {
    /// Who a party is.
    PartyKind {
        Person = "person", "自然人";
        Organisation = "organisation", "法人或其他组织";
    }
}

vocabulary! {
    /// Which side of the dispute a party is on.
    PartySide {
        Applicant = "applicant", "申请人";
        Respondent = "respondent", "被申请人";
        Other = "other", "其他当事人";
    }
}

vocabulary! {
    /// Mediation organisations on the region tree.
    OrgKind {
        VillageCommittee = "village_committee", "村（社区）人民调解委员会";
        TownshipCommittee = "township_committee", "乡镇（街道）人民调解委员会";
        IndustryCommittee = "industry_committee", "行业性专业性人民调解委员会";
        CentreRoom = "centre_room", "综治中心调解室";
        CourtLinked = "court_linked", "诉调对接工作室";
    }
}

vocabulary! {
    RiskLevel {
        Low = "low", "一般";
        Medium = "medium", "较大";
        High = "high", "重大";
    }
}

impl Outcome {
    /// Ended with an agreement: what the success rate counts.
    pub fn is_success(self) -> bool {
        matches!(self, Outcome::AgreedWritten | Outcome::AgreedOral)
    }
}

/// Days a case has by default (《人民调解工作若干规定》第33条: settle within one month).
pub const DEFAULT_CASE_DAYS: i64 = 30;
/// Days after an agreement takes effect within which the parties may jointly apply for judicial
/// confirmation (人民调解法第33条).
pub const CONFIRMATION_DAYS: i64 = 30;

/// The contents article 29 requires of a written agreement (调解协议书). Every field may be
/// left out when read, so that what is missing is reported as the law names it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct Agreement {
    /// 纠纷主要事实
    pub facts: String,
    /// 争议事项
    pub points: String,
    /// 各方责任
    pub responsibilities: String,
    /// 协议内容
    pub terms: String,
    /// 履行方式
    pub performance_method: String,
    /// 履行期限
    pub performance_deadline: Option<NaiveDate>,
}

/// A missing or unusable part of an agreement: the field and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub field: &'static str,
    pub reason: String,
}

impl Agreement {
    /// Everything article 29 asks for that this agreement lacks. The parties' basic particulars
    /// come from the case's parties: `parties` is how many the case has (two at least).
    pub fn problems(&self, parties: usize, reached_on: NaiveDate) -> Vec<Problem> {
        let mut out = Vec::new();
        if parties < 2 {
            out.push(Problem {
                field: "parties",
                reason: "协议须载明双方（或多方）当事人的基本情况，案件当事人不足两方".into(),
            });
        }
        for (field, value, what) in [
            ("facts", &self.facts, "纠纷主要事实"),
            ("points", &self.points, "争议事项"),
            ("responsibilities", &self.responsibilities, "各方责任"),
            ("terms", &self.terms, "协议内容"),
            ("performance_method", &self.performance_method, "履行方式"),
        ] {
            let n = value.trim().chars().count();
            if n == 0 {
                out.push(Problem {
                    field,
                    reason: format!("缺少{what}（人民调解法第二十九条）"),
                });
            } else if n > 5000 {
                out.push(Problem {
                    field,
                    reason: format!("{what}过长（不超过5000字）"),
                });
            }
        }
        match self.performance_deadline {
            None => out.push(Problem {
                field: "performance_deadline",
                reason: "缺少履行期限（人民调解法第二十九条）".into(),
            }),
            Some(d) if d < reached_on => out.push(Problem {
                field: "performance_deadline",
                reason: format!("履行期限 {d} 早于协议达成日 {reached_on}"),
            }),
            Some(_) => {}
        }
        out
    }
}

/// Who has signed a written agreement, and when: each party (by its number in the case), the
/// mediator, and the committee's seal.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Signatures {
    pub parties: BTreeMap<u32, DateTime<Utc>>,
    pub mediator: Option<DateTime<Utc>>,
    pub seal: Option<DateTime<Utc>>,
}

impl Signatures {
    /// When the agreement took effect: the last of every party's signature, the mediator's and
    /// the seal; none while any is missing.
    pub fn effective_at(&self, parties: &[u32]) -> Option<DateTime<Utc>> {
        let mut last = self.mediator?.max(self.seal?);
        for p in parties {
            last = last.max(*self.parties.get(p)?);
        }
        Some(last)
    }

    /// What is still missing, in words for the page.
    pub fn missing(&self, parties: &[(u32, String)]) -> Vec<String> {
        let mut out: Vec<String> = parties
            .iter()
            .filter(|(n, _)| !self.parties.contains_key(n))
            .map(|(_, name)| format!("当事人{name}签名"))
            .collect();
        if self.mediator.is_none() {
            out.push("调解员签名".into());
        }
        if self.seal.is_none() {
            out.push("调解委员会印章".into());
        }
        out
    }
}

/// The last day to apply for judicial confirmation of an agreement that took effect `at`.
pub fn confirmation_deadline(effective: DateTime<Utc>) -> DateTime<Utc> {
    effective + Duration::days(CONFIRMATION_DAYS)
}

/// How a rate is printed: truncated (as the published figures are) or rounded, to so many
/// decimals of a percent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RateDisplay {
    pub mode: RateMode,
    pub decimals: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RateMode {
    Truncate,
    Round,
}

impl Default for RateDisplay {
    fn default() -> Self {
        RateDisplay {
            mode: RateMode::Truncate,
            decimals: 1,
        }
    }
}

impl RateDisplay {
    /// `successful ÷ handled` as a percent string, computed on integers so that truncation is
    /// exact (0.96869… → "96.8%", not a float's 96.86999…). No cases: "—".
    pub fn show(&self, successful: u64, handled: u64) -> String {
        if handled == 0 {
            return "—".into();
        }
        let d = u32::from(self.decimals.min(4));
        let scale = 10u128.pow(d);
        let num = u128::from(successful) * 100 * scale;
        let den = u128::from(handled);
        let units = match self.mode {
            RateMode::Truncate => num / den,
            RateMode::Round => (2 * num + den) / (2 * den),
        };
        if d == 0 {
            format!("{units}%")
        } else {
            let s = scale;
            format!("{}.{:0width$}%", units / s, units % s, width = d as usize)
        }
    }
}

/// One case as the statistics see it.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseFacts {
    pub opened_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub outcome: Option<Outcome>,
    pub performed: bool,
}

/// The figures of a set of cases over a period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Stats {
    /// Opened within the period.
    pub received: u64,
    /// Mediation ended within the period, whatever the outcome (调解件数).
    pub handled: u64,
    /// Ended with an agreement (调解成功件数).
    pub successful: u64,
    pub failed: u64,
    pub ended: u64,
    pub referred: u64,
    /// Of the successful, agreements performed.
    pub performed: u64,
    /// successful ÷ handled, 0 when nothing was handled.
    pub success_rate: f64,
    /// Mean days from opening to the end of mediation over the handled cases.
    pub average_days: f64,
}

impl Stats {
    /// Counts cases in `[from, to)` (either end open).
    pub fn count<'a>(
        cases: impl IntoIterator<Item = &'a CaseFacts>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Stats {
        let within = |t: DateTime<Utc>| from.is_none_or(|f| t >= f) && to.is_none_or(|e| t < e);
        let mut s = Stats::default();
        let mut days = 0.0;
        for c in cases {
            if within(c.opened_at) {
                s.received += 1;
            }
            let (Some(end), Some(outcome)) = (c.ended_at, c.outcome) else {
                continue;
            };
            if !within(end) {
                continue;
            }
            s.handled += 1;
            days += (end - c.opened_at).num_seconds() as f64 / 86_400.0;
            match outcome {
                Outcome::AgreedWritten | Outcome::AgreedOral => {
                    s.successful += 1;
                    if c.performed {
                        s.performed += 1;
                    }
                }
                Outcome::Failed => s.failed += 1,
                Outcome::Ended => s.ended += 1,
                Outcome::Referred => s.referred += 1,
            }
        }
        s.finish(days);
        s
    }

    /// Fills the rate and the average from the counts and the summed days.
    pub fn finish(&mut self, total_days: f64) {
        if self.handled > 0 {
            self.success_rate = self.successful as f64 / self.handled as f64;
            self.average_days = total_days / self.handled as f64;
        }
    }
}

/// Where a transfer slip's receipt or reply stands against its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SlipLight {
    Green,
    /// In the last fifth of its time.
    Yellow,
    /// Past its deadline, not done.
    Red,
    Done,
    /// Done after its deadline.
    Late,
}

impl SlipLight {
    pub fn label_zh(self) -> &'static str {
        match self {
            SlipLight::Green => "正常",
            SlipLight::Yellow => "临期",
            SlipLight::Red => "超期",
            SlipLight::Done => "已办",
            SlipLight::Late => "逾期办理",
        }
    }
}

/// The light of a transfer slip's receipt or reply: late once its deadline has passed without
/// it, yellow in the last fifth of its time.
pub fn slip_light(
    now: DateTime<Utc>,
    sent: DateTime<Utc>,
    due: DateTime<Utc>,
    done: Option<DateTime<Utc>>,
) -> SlipLight {
    match done {
        Some(d) if d > due => SlipLight::Late,
        Some(_) => SlipLight::Done,
        None if now > due => SlipLight::Red,
        None => {
            let total = (due - sent).num_seconds().max(1) as f64;
            if ((due - now).num_seconds() as f64) < total * 0.2 {
                SlipLight::Yellow
            } else {
                SlipLight::Green
            }
        }
    }
}

/// What the risk list (研判) looks at in a case.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskFacts {
    pub id: String,
    pub grid: String,
    pub opened_at: DateTime<Utc>,
    pub parties: Vec<String>,
    pub level: RiskLevel,
    /// The latest change of level raised it.
    pub raised: bool,
}

/// Why an open case is listed for the risk assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RiskReason {
    /// A group dispute: five parties or more (群体性).
    ManyParties,
    /// The same parties (by name) in another case of the year before.
    SameParties,
    /// Three or more cases in the same grid within 180 days (this one and two before it).
    SamePlace,
    /// Its level was raised, or is high.
    Rising,
}

impl RiskReason {
    pub fn label_zh(self) -> &'static str {
        match self {
            RiskReason::ManyParties => "当事人众多（群体性纠纷）",
            RiskReason::SameParties => "同一当事人一年内反复纠纷",
            RiskReason::SamePlace => "同一网格180天内纠纷多发",
            RiskReason::Rising => "风险等级上升或为重大",
        }
    }
}

/// The reasons to list `case` for assessment, looking at the other cases of its area
/// (`others` may include it; it is skipped by id).
pub fn risk_reasons(case: &RiskFacts, others: &[RiskFacts]) -> Vec<RiskReason> {
    let mut out = Vec::new();
    if case.parties.len() >= 5 {
        out.push(RiskReason::ManyParties);
    }
    // The other cases of the window before this one (or opened with it).
    let near = |o: &RiskFacts, days: i64| {
        o.id != case.id
            && o.opened_at <= case.opened_at + Duration::days(1)
            && (case.opened_at - o.opened_at).num_days() <= days
    };
    let shared = |o: &RiskFacts| {
        let mine: std::collections::BTreeSet<&str> = case
            .parties
            .iter()
            .map(|p| p.trim())
            .filter(|p| !p.is_empty())
            .collect();
        o.parties.iter().filter(|p| mine.contains(p.trim())).count() >= 2.min(mine.len()).max(1)
    };
    if others.iter().any(|o| near(o, 365) && shared(o)) {
        out.push(RiskReason::SameParties);
    }
    if others
        .iter()
        .filter(|o| near(o, 180) && o.grid == case.grid)
        .count()
        >= 2
    {
        out.push(RiskReason::SamePlace);
    }
    if case.raised || case.level == RiskLevel::High {
        out.push(RiskReason::Rising);
    }
    out
}

#[cfg(test)]
mod tests;
