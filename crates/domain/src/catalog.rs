//! The category catalogue (事件分类): two levels, major class → minor class, shipped as defaults.
//! Each minor class names its domain, default urgency, the kind of department that handles it
//! (routed to that department serving the event's township, else its county), and the time limit
//! of each step — accept, check in, handle, verify — shortened for urgent and very urgent events.
//!
//! Defaults follow local practice (DOMAIN.md §1): accept/dispatch within 30 minutes (10 when
//! urgent), verification within 1 hour in town and 2 in the countryside, handling limits in
//! working hours or days by category (e.g. exposed rubbish 4 working hours, illegal structures
//! 20 working days). An administrator may change them later; these are the starting point.

use crate::calendar::Limit;
use crate::org::{DepartmentKind, Domain};
use crate::workflow::Urgency;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StepLimits {
    pub accept: Limit,
    pub check_in: Limit,
    pub handle: Limit,
    pub verify: Limit,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Category {
    pub code: String,
    pub name: String,
    pub major_code: String,
    pub major_name: String,
    pub domain: Domain,
    pub urgency: Urgency,
    pub department: DepartmentKind,
    /// The limits for a normal event; see [`Category::limits`] for urgent ones.
    pub limits: StepLimits,
}

/// A step of the loop that has a time limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Accept,
    CheckIn,
    Handle,
    Verify,
}

impl Category {
    /// The limits for an event of this category at an urgency: urgent steps run on the clock.
    pub fn limits(&self, urgency: Urgency, rural: bool) -> StepLimits {
        let verify = Limit::Minutes(if rural { 120 } else { 60 });
        match urgency {
            Urgency::Normal => StepLimits {
                verify,
                ..self.limits
            },
            Urgency::Urgent => StepLimits {
                accept: Limit::Minutes(10),
                check_in: Limit::Minutes(30),
                handle: shorten(self.limits.handle, 2),
                verify,
            },
            Urgency::VeryUrgent => StepLimits {
                accept: Limit::Minutes(5),
                check_in: Limit::Minutes(15),
                handle: Limit::Minutes(match self.limits.handle {
                    Limit::Minutes(m) => (m / 4).max(30),
                    _ => 240,
                }),
                verify: Limit::Minutes(30),
            },
        }
    }

    pub fn limit(&self, step: Step, urgency: Urgency, rural: bool) -> Limit {
        let l = self.limits(urgency, rural);
        match step {
            Step::Accept => l.accept,
            Step::CheckIn => l.check_in,
            Step::Handle => l.handle,
            Step::Verify => l.verify,
        }
    }
}

fn shorten(l: Limit, by: i64) -> Limit {
    match l {
        Limit::Minutes(m) => Limit::Minutes((m / by).max(10)),
        Limit::WorkingMinutes(m) => Limit::WorkingMinutes((m / by).max(30)),
        Limit::WorkingDays(d) => Limit::WorkingDays((d / by as u32).max(1)),
    }
}

const fn steps(handle: Limit) -> StepLimits {
    StepLimits {
        accept: Limit::Minutes(30),
        check_in: Limit::WorkingMinutes(120),
        handle,
        verify: Limit::Minutes(60),
    }
}

const WH: fn(i64) -> Limit = |h| Limit::WorkingMinutes(h * 60);
const WD: fn(u32) -> Limit = Limit::WorkingDays;

type Row = (
    &'static str,
    &'static str,
    Domain,
    Urgency,
    DepartmentKind,
    Limit,
);

/// (major code, major name, [(minor code, name, domain, urgency, department, handling limit)])
fn table() -> Vec<(&'static str, &'static str, Vec<Row>)> {
    use DepartmentKind as D;
    use Domain::*;
    use Urgency::*;
    vec![
        (
            "01",
            "矛盾纠纷",
            vec![
                (
                    "0101",
                    "婚姻家庭纠纷",
                    General,
                    Normal,
                    D::JudicialOffice,
                    WD(20),
                ),
                (
                    "0102",
                    "邻里纠纷",
                    Community,
                    Normal,
                    D::JudicialOffice,
                    WD(10),
                ),
                (
                    "0103",
                    "房屋宅基地纠纷",
                    Rural,
                    Normal,
                    D::JudicialOffice,
                    WD(20),
                ),
                (
                    "0104",
                    "山林土地纠纷",
                    Rural,
                    Normal,
                    D::NaturalResources,
                    WD(20),
                ),
                (
                    "0105",
                    "劳动争议（欠薪）",
                    Enterprise,
                    Urgent,
                    D::HumanResources,
                    WD(10),
                ),
                ("0106", "物业纠纷", Community, Normal, D::Housing, WD(10)),
                (
                    "0107",
                    "合同纠纷",
                    General,
                    Normal,
                    D::JudicialOffice,
                    WD(20),
                ),
                (
                    "0108",
                    "损害赔偿纠纷",
                    General,
                    Normal,
                    D::JudicialOffice,
                    WD(20),
                ),
                (
                    "0109",
                    "征地拆迁纠纷",
                    Rural,
                    Urgent,
                    D::NaturalResources,
                    WD(20),
                ),
                (
                    "0110",
                    "消费纠纷",
                    General,
                    Normal,
                    D::MarketSupervision,
                    WD(7),
                ),
            ],
        ),
        (
            "02",
            "治安隐患",
            vec![
                (
                    "0201",
                    "可疑人员和物品",
                    General,
                    Urgent,
                    D::PoliceStation,
                    WH(2),
                ),
                (
                    "0202",
                    "噪声扰民",
                    Community,
                    Normal,
                    D::PoliceStation,
                    WH(4),
                ),
                (
                    "0203",
                    "非法营运和聚集",
                    General,
                    Normal,
                    D::PoliceStation,
                    WD(3),
                ),
            ],
        ),
        (
            "03",
            "安全隐患",
            vec![
                (
                    "0301",
                    "消防通道堵塞",
                    Community,
                    Urgent,
                    D::FireRescue,
                    WH(4),
                ),
                (
                    "0302",
                    "燃气泄漏隐患",
                    Community,
                    VeryUrgent,
                    D::EmergencyManagement,
                    Limit::Minutes(120),
                ),
                (
                    "0303",
                    "安全生产隐患",
                    Enterprise,
                    Urgent,
                    D::EmergencyManagement,
                    WD(3),
                ),
                ("0304", "危险房屋", Community, Urgent, D::Housing, WD(5)),
                (
                    "0305",
                    "电动车违规充电",
                    Community,
                    Normal,
                    D::FireRescue,
                    WH(8),
                ),
            ],
        ),
        (
            "04",
            "市容环境",
            vec![
                (
                    "0401",
                    "暴露垃圾",
                    Community,
                    Normal,
                    D::UrbanManagement,
                    WH(4),
                ),
                (
                    "0402",
                    "私搭乱建",
                    Community,
                    Normal,
                    D::UrbanManagement,
                    WD(20),
                ),
                (
                    "0403",
                    "道路不洁",
                    Community,
                    Normal,
                    D::UrbanManagement,
                    WH(4),
                ),
                (
                    "0404",
                    "积存渣土",
                    Community,
                    Normal,
                    D::UrbanManagement,
                    WD(1),
                ),
                (
                    "0405",
                    "绿地脏乱",
                    Community,
                    Normal,
                    D::UrbanManagement,
                    WD(5),
                ),
            ],
        ),
        (
            "05",
            "街面秩序",
            vec![
                (
                    "0501",
                    "占道经营",
                    Community,
                    Normal,
                    D::UrbanManagement,
                    WH(4),
                ),
                (
                    "0502",
                    "店外经营",
                    Community,
                    Normal,
                    D::UrbanManagement,
                    WH(4),
                ),
                (
                    "0503",
                    "露天烧烤",
                    Community,
                    Normal,
                    D::UrbanManagement,
                    WH(2),
                ),
            ],
        ),
        (
            "06",
            "施工管理",
            vec![
                ("0601", "施工扰民", Community, Normal, D::Housing, WD(2)),
                ("0602", "工地扬尘", General, Normal, D::Ecology, WD(2)),
            ],
        ),
        (
            "07",
            "宣传广告",
            vec![(
                "0701",
                "违规户外广告",
                Community,
                Normal,
                D::UrbanManagement,
                WD(5),
            )],
        ),
        (
            "08",
            "生态环境",
            vec![
                ("0801", "水体污染", Rural, Urgent, D::Ecology, WD(3)),
                ("0802", "废气排放", Enterprise, Normal, D::Ecology, WD(5)),
                ("0803", "秸秆焚烧", Rural, Urgent, D::Ecology, WH(4)),
            ],
        ),
        (
            "09",
            "民生服务",
            vec![
                // The utilities' own faults go to the companies that run them, not to housing.
                ("0901", "停水", Community, Urgent, D::WaterSupply, WH(8)),
                ("0902", "停电", Community, Urgent, D::PowerSupply, WH(8)),
                ("0903", "燃气供应", Community, Urgent, D::GasSupply, WH(8)),
                ("0904", "供暖不热", Community, Normal, D::HeatSupply, WD(2)),
                (
                    "0905",
                    "井盖缺失",
                    Community,
                    Urgent,
                    D::UrbanManagement,
                    Limit::Minutes(120),
                ),
                (
                    "0906",
                    "路灯不亮",
                    Community,
                    Normal,
                    D::UrbanManagement,
                    WD(1),
                ),
            ],
        ),
        (
            "10",
            "信访诉求",
            vec![
                ("1001", "政策咨询", General, Normal, D::Petitions, WD(3)),
                ("1002", "投诉举报", General, Normal, D::Petitions, WD(13)),
            ],
        ),
        (
            "11",
            "民族宗教",
            vec![(
                "1101",
                "宗教活动场所安全",
                Religion,
                Normal,
                D::EthnicReligious,
                WD(5),
            )],
        ),
        (
            "12",
            "校园安全",
            vec![
                ("1201", "校园周边秩序", Campus, Normal, D::Education, WD(3)),
                ("1202", "学生欺凌", Campus, Urgent, D::Education, WD(2)),
            ],
        ),
        (
            "13",
            "企业服务",
            vec![(
                "1301",
                "企业诉求",
                Enterprise,
                Normal,
                D::MarketSupervision,
                WD(5),
            )],
        ),
        (
            "14",
            "社会组织",
            vec![(
                "1401",
                "社会组织异常",
                SocialOrganisation,
                Normal,
                D::CivilAffairs,
                WD(10),
            )],
        ),
        (
            "15",
            "突发事件",
            vec![
                (
                    "1501",
                    "道路塌陷",
                    General,
                    VeryUrgent,
                    D::EmergencyManagement,
                    Limit::Minutes(240),
                ),
                (
                    "1502",
                    "水管爆裂",
                    Community,
                    VeryUrgent,
                    D::WaterAffairs,
                    Limit::Minutes(240),
                ),
                (
                    "1503",
                    "火情",
                    General,
                    VeryUrgent,
                    D::FireRescue,
                    Limit::Minutes(60),
                ),
            ],
        ),
    ]
}

/// The shipped catalogue, minor classes in code order.
pub fn default_catalogue() -> Vec<Category> {
    let mut out = Vec::new();
    for (major_code, major_name, rows) in table() {
        for (code, name, domain, urgency, department, handle) in rows {
            out.push(Category {
                code: code.into(),
                name: name.into(),
                major_code: major_code.into(),
                major_name: major_name.into(),
                domain,
                urgency,
                department,
                limits: steps(handle),
            });
        }
    }
    out
}

pub fn find(catalogue: &[Category], code: &str) -> Option<Category> {
    catalogue.iter().find(|c| c.code == code).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_nested() {
        let c = default_catalogue();
        let mut codes: Vec<_> = c.iter().map(|x| x.code.as_str()).collect();
        codes.dedup();
        assert_eq!(codes.len(), c.len());
        for x in &c {
            assert!(
                x.code.starts_with(&x.major_code) && x.code.len() == 4,
                "{}",
                x.code
            );
        }
        assert!(c.len() >= 40);
        let majors: std::collections::BTreeSet<_> = c.iter().map(|x| &x.major_code).collect();
        assert_eq!(majors.len(), 15);
    }

    #[test]
    fn urgent_limits_are_shorter() {
        let c = find(&default_catalogue(), "0401").unwrap();
        assert_eq!(
            c.limit(Step::Accept, Urgency::Normal, false),
            Limit::Minutes(30)
        );
        assert_eq!(
            c.limit(Step::Accept, Urgency::Urgent, false),
            Limit::Minutes(10)
        );
        assert_eq!(
            c.limit(Step::Verify, Urgency::Normal, false),
            Limit::Minutes(60)
        );
        assert_eq!(
            c.limit(Step::Verify, Urgency::Normal, true),
            Limit::Minutes(120)
        );
        assert_eq!(
            c.limit(Step::Handle, Urgency::Normal, false),
            Limit::WorkingMinutes(240)
        );
        assert_eq!(
            c.limit(Step::Handle, Urgency::Urgent, false),
            Limit::WorkingMinutes(120)
        );
        assert!(matches!(
            c.limit(Step::Handle, Urgency::VeryUrgent, false),
            Limit::Minutes(_)
        ));
    }
}
