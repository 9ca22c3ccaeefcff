//! The counties and their townships as the generator lays them out: the real districts' lists,
//! with community and village counts chosen to add up to the article's.

pub(crate) struct TownshipSpec {
    pub name: &'static str,
    /// 0 = street (街道), 1 = town (镇), 2 = township (乡)
    pub kind: u8,
    pub communities: usize,
    pub villages: usize,
}

pub(crate) struct CountySpec {
    pub code: &'static str,
    pub name: &'static str,
    /// south and north latitude of the county's band
    pub band: (f64, f64),
    pub townships: Vec<TownshipSpec>,
}

const fn t(name: &'static str, kind: u8, communities: usize, villages: usize) -> TownshipSpec {
    TownshipSpec {
        name,
        kind,
        communities,
        villages,
    }
}

/// Township lists modelled on the real districts; community and village counts add up to the
/// article's 122 and 195.
pub(crate) fn counties() -> Vec<CountySpec> {
    vec![
        CountySpec {
            code: "640205",
            name: "惠农区",
            band: (39.08, 39.30),
            townships: vec![
                t("北街街道", 0, 6, 0),
                t("南街街道", 0, 6, 0),
                t("中街街道", 0, 6, 0),
                t("育才路街道", 0, 6, 0),
                t("河滨街街道", 0, 6, 0),
                t("红果子镇", 1, 1, 9),
                t("尾闸镇", 1, 1, 8),
                t("园艺镇", 1, 1, 7),
                t("礼和镇", 1, 1, 7),
                t("庙台镇", 1, 1, 7),
                t("燕子墩乡", 2, 0, 6),
                t("简泉乡", 2, 0, 6),
            ],
        },
        CountySpec {
            code: "640202",
            name: "大武口区",
            band: (38.93, 39.08),
            townships: vec![
                t("长胜街道", 0, 8, 0),
                t("朝阳街道", 0, 8, 0),
                t("人民路街道", 0, 8, 0),
                t("长城街道", 0, 8, 0),
                t("青山街道", 0, 8, 0),
                t("石炭井街道", 0, 7, 0),
                t("白芨沟街道", 0, 7, 0),
                t("沟口街道", 0, 8, 0),
                t("锦林街道", 0, 8, 0),
                t("星海镇", 1, 0, 10),
            ],
        },
        CountySpec {
            code: "640221",
            name: "平罗县",
            band: (38.70, 38.93),
            townships: vec![
                t("城关镇", 1, 4, 10),
                t("黄渠桥镇", 1, 2, 10),
                t("宝丰镇", 1, 2, 10),
                t("头闸镇", 1, 2, 10),
                t("姚伏镇", 1, 2, 10),
                t("崇岗镇", 1, 2, 9),
                t("陶乐镇", 1, 2, 10),
                t("通伏乡", 2, 1, 9),
                t("高庄乡", 2, 0, 10),
                t("灵沙乡", 2, 0, 9),
                t("渠口乡", 2, 0, 9),
                t("高仁乡", 2, 0, 10),
                t("红崖子乡", 2, 0, 10),
                t("下庙乡", 2, 0, 9),
            ],
        },
    ]
}
