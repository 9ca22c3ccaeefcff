//! The region tree: city → county → township → community → grid, and the codes that name it.
//!
//! The first four levels carry the 12-digit statistical division codes (统计用区划代码):
//! 2 province + 2 city + 2 county + 3 township + 3 community. A grid code (网格编码) is its
//! community's 12 digits plus a 3-digit sequence. This module owns the rules those codes obey
//! (shape per level, parent derivation, kind derived from the code); it knows nothing of storage.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A level of the region tree. Wire ids are lower-case.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// 市 (prefecture-level city)
    City,
    /// 区/县 (county-level district or county)
    County,
    /// 乡/镇/街道 (township, town or street office)
    Township,
    /// 社区/村 (urban community or village)
    Community,
    /// 网格
    Grid,
}

impl Level {
    pub const ALL: [Level; 5] = [
        Level::City,
        Level::County,
        Level::Township,
        Level::Community,
        Level::Grid,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::City => "city",
            Level::County => "county",
            Level::Township => "township",
            Level::Community => "community",
            Level::Grid => "grid",
        }
    }

    /// The level directly above, `None` for the city (provinces are not modelled).
    pub fn parent(self) -> Option<Level> {
        match self {
            Level::City => None,
            Level::County => Some(Level::City),
            Level::Township => Some(Level::County),
            Level::Community => Some(Level::Township),
            Level::Grid => Some(Level::Community),
        }
    }

    /// The level directly below, `None` for a grid.
    pub fn child(self) -> Option<Level> {
        match self {
            Level::City => Some(Level::County),
            Level::County => Some(Level::Township),
            Level::Township => Some(Level::Community),
            Level::Community => Some(Level::Grid),
            Level::Grid => None,
        }
    }

    /// How many leading digits of a code are significant at this level; every descendant's
    /// code starts with these digits.
    pub fn prefix_len(self) -> usize {
        match self {
            Level::City => 4,
            Level::County => 6,
            Level::Township => 9,
            Level::Community => 12,
            Level::Grid => 15,
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Level::City => "市",
            Level::County => "区县",
            Level::Township => "乡镇街道",
            Level::Community => "社区村",
            Level::Grid => "网格",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| CodeError::UnknownLevel(s.to_string()))
    }
}

/// 基础网格 or 专属网格. A dedicated grid is carved out of its community's area for one
/// campus, enterprise, park, market, … so grids still never overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum GridType {
    Basic,
    Dedicated,
}

impl GridType {
    pub fn as_str(self) -> &'static str {
        match self {
            GridType::Basic => "basic",
            GridType::Dedicated => "dedicated",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            GridType::Basic => "基础网格",
            GridType::Dedicated => "专属网格",
        }
    }
}

impl FromStr for GridType {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "basic" => Ok(GridType::Basic),
            "dedicated" => Ok(GridType::Dedicated),
            other => Err(CodeError::UnknownGridType(other.to_string())),
        }
    }
}

/// What a township- or community-level code says about the place, read from the code itself:
/// the first digit of the township segment (0 街道, 1 镇, 2–3 乡, 4–5 政企合一 units) and the
/// community segment (001–199 居委会 = community, 200–399 村委会 = village).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionKind {
    City,
    County,
    /// 街道
    Street,
    /// 镇
    Town,
    /// 乡
    Township,
    /// 其他乡级单位 (农场、开发区…)
    OtherTownship,
    /// 社区 (居委会)
    Community,
    /// 村 (村委会)
    Village,
    /// 其他村级单位
    OtherCommunity,
}

impl RegionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RegionKind::City => "city",
            RegionKind::County => "county",
            RegionKind::Street => "street",
            RegionKind::Town => "town",
            RegionKind::Township => "township",
            RegionKind::OtherTownship => "other_township",
            RegionKind::Community => "community",
            RegionKind::Village => "village",
            RegionKind::OtherCommunity => "other_community",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("区划代码应为12位数字，收到 \"{0}\"")]
    NotRegionCode(String),
    #[error("网格编码应为15位数字，收到 \"{0}\"")]
    NotGridCode(String),
    #[error("未知层级 \"{0}\"（应为 city、county、township、community 或 grid）")]
    UnknownLevel(String),
    #[error("未知网格类型 \"{0}\"（应为 basic 或 dedicated）")]
    UnknownGridType(String),
    #[error("代码 {code} 不是{expected}级代码（按代码形态应为 {actual}）")]
    LevelMismatch {
        code: String,
        expected: Level,
        actual: Level,
    },
}

fn all_digits(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit())
}

/// A 12-digit region code (city, county, township or community).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegionCode(String);

impl RegionCode {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        let s = s.trim();
        if !all_digits(s, 12) {
            return Err(CodeError::NotRegionCode(s.to_string()));
        }
        // The city segment must be non-zero: 640000000000 is a province, not modelled here.
        if &s[2..4] == "00" || &s[0..2] == "00" {
            return Err(CodeError::NotRegionCode(s.to_string()));
        }
        Ok(RegionCode(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The level the code's shape says it is at: trailing zero segments mark the higher levels.
    pub fn level(&self) -> Level {
        let s = &self.0;
        if &s[4..] == "00000000" {
            Level::City
        } else if &s[6..] == "000000" {
            Level::County
        } else if &s[9..] == "000" {
            Level::Township
        } else {
            Level::Community
        }
    }

    /// The code of the region directly above; `None` for a city.
    pub fn parent(&self) -> Option<RegionCode> {
        let s = &self.0;
        let parent = match self.level() {
            Level::City | Level::Grid => return None,
            Level::County => format!("{}00000000", &s[..4]),
            Level::Township => format!("{}000000", &s[..6]),
            Level::Community => format!("{}000", &s[..9]),
        };
        Some(RegionCode(parent))
    }

    /// The significant prefix every descendant's code starts with.
    pub fn prefix(&self) -> &str {
        &self.0[..self.level().prefix_len()]
    }

    /// The county-level code (first six digits), the distribution key of growing tables.
    /// `None` for a city.
    pub fn county(&self) -> Option<RegionCode> {
        match self.level() {
            Level::City | Level::Grid => None,
            _ => Some(RegionCode(format!("{}000000", &self.0[..6]))),
        }
    }

    pub fn kind(&self) -> RegionKind {
        match self.level() {
            Level::City => RegionKind::City,
            Level::County => RegionKind::County,
            Level::Township => match self.0.as_bytes()[6] {
                b'0' => RegionKind::Street,
                b'1' => RegionKind::Town,
                b'2' | b'3' => RegionKind::Township,
                _ => RegionKind::OtherTownship,
            },
            Level::Community | Level::Grid => match self.0.as_bytes()[9] {
                b'0' | b'1' => RegionKind::Community,
                b'2' | b'3' => RegionKind::Village,
                _ => RegionKind::OtherCommunity,
            },
        }
    }

    /// Whether `self` lies at or under `ancestor` in the tree.
    pub fn is_within(&self, ancestor: &RegionCode) -> bool {
        self.0.starts_with(ancestor.prefix())
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for RegionCode {
    type Error = CodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        RegionCode::parse(&s)
    }
}

impl From<RegionCode> for String {
    fn from(c: RegionCode) -> String {
        c.0
    }
}

/// A 15-digit grid code: the community's 12 digits and a non-zero 3-digit sequence.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct GridCode(String);

impl GridCode {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        let s = s.trim();
        if !all_digits(s, 15) || &s[12..] == "000" {
            return Err(CodeError::NotGridCode(s.to_string()));
        }
        let community =
            RegionCode::parse(&s[..12]).map_err(|_| CodeError::NotGridCode(s.to_string()))?;
        if community.level() != Level::Community {
            return Err(CodeError::NotGridCode(s.to_string()));
        }
        Ok(GridCode(s.to_string()))
    }

    /// Builds the code of the `seq`-th grid (1–999) of a community.
    pub fn new(community: &RegionCode, seq: u16) -> Result<Self, CodeError> {
        GridCode::parse(&format!("{}{:03}", community.as_str(), seq))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn community(&self) -> RegionCode {
        RegionCode(self.0[..12].to_string())
    }

    pub fn county(&self) -> RegionCode {
        RegionCode(format!("{}000000", &self.0[..6]))
    }

    pub fn is_within(&self, ancestor: &RegionCode) -> bool {
        self.0.starts_with(ancestor.prefix())
    }
}

impl fmt::Display for GridCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for GridCode {
    type Error = CodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        GridCode::parse(&s)
    }
}

impl From<GridCode> for String {
    fn from(c: GridCode) -> String {
        c.0
    }
}

/// The `[low, high)` range of codes that start with a digit prefix, bounded by digits only so
/// that it holds under any database collation (punctuation sorts differently in ICU and glibc
/// locales than in byte order). Codes are at most 15 digits.
pub fn code_range(prefix: &str) -> (String, String) {
    let digits = prefix.as_bytes();
    match digits.iter().rposition(|&b| b != b'9') {
        Some(i) => {
            let mut high = prefix[..i].to_string();
            high.push((digits[i] + 1) as char);
            (prefix.to_string(), high)
        }
        // Empty or all nines: nothing sorts after it but longer runs of nines.
        None => (prefix.to_string(), "9".repeat(20)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_ranges_hold_exactly_the_prefix() {
        assert_eq!(code_range("640202"), ("640202".into(), "640203".into()));
        assert_eq!(code_range("640209"), ("640209".into(), "64021".into()));
        assert_eq!(code_range(""), ("".into(), "9".repeat(20)));
        for prefix in ["6402", "640209", "64020200", "640202001001", "6499", ""] {
            let (lo, hi) = code_range(prefix);
            for code in [
                "640202001001",
                "640202001001007",
                "640209999999",
                "640210000000",
                "640201999999",
                "649999999999999",
                "650000000000",
            ] {
                let inside = code >= lo.as_str() && code < hi.as_str();
                assert_eq!(inside, code.starts_with(prefix), "{code} in {prefix}");
            }
        }
    }

    #[test]
    fn levels_follow_code_shape() {
        let cases = [
            ("640200000000", Level::City),
            ("640202000000", Level::County),
            ("640202001000", Level::Township),
            ("640202001001", Level::Community),
            ("640221201212", Level::Community),
        ];
        for (code, level) in cases {
            assert_eq!(RegionCode::parse(code).unwrap().level(), level, "{code}");
        }
    }

    #[test]
    fn parents_climb_one_level() {
        let c = RegionCode::parse("640202001001").unwrap();
        let t = c.parent().unwrap();
        assert_eq!(t.as_str(), "640202001000");
        let k = t.parent().unwrap();
        assert_eq!(k.as_str(), "640202000000");
        let city = k.parent().unwrap();
        assert_eq!(city.as_str(), "640200000000");
        assert_eq!(city.parent(), None);
        assert_eq!(c.county().unwrap().as_str(), "640202000000");
    }

    #[test]
    fn bad_codes_are_rejected() {
        for bad in [
            "",
            "6402",
            "64020200100a",
            "6402020010011",
            "640000000000",
            "000000000000",
        ] {
            assert!(RegionCode::parse(bad).is_err(), "{bad}");
        }
        for bad in [
            "640202001001000",
            "640202001000001",
            "64020200100100",
            "6402020010010011",
        ] {
            assert!(GridCode::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            GridCode::parse("640202001001007")
                .unwrap()
                .community()
                .as_str(),
            "640202001001"
        );
    }

    #[test]
    fn kinds_come_from_the_code() {
        let k = |s: &str| RegionCode::parse(s).unwrap().kind();
        assert_eq!(k("640202001000"), RegionKind::Street);
        assert_eq!(k("640202100000"), RegionKind::Town);
        assert_eq!(k("640221201000"), RegionKind::Township);
        assert_eq!(k("640202001001"), RegionKind::Community);
        assert_eq!(k("640221101201"), RegionKind::Village);
    }

    #[test]
    fn within_uses_the_significant_prefix() {
        let county = RegionCode::parse("640202000000").unwrap();
        let other = RegionCode::parse("640205000000").unwrap();
        let g = GridCode::parse("640202001001003").unwrap();
        assert!(g.is_within(&county));
        assert!(!g.is_within(&other));
        let city = RegionCode::parse("640200000000").unwrap();
        assert!(county.is_within(&city));
        assert!(!city.is_within(&county));
    }

    #[test]
    fn wire_ids_round_trip() {
        for l in Level::ALL {
            assert_eq!(l.as_str().parse::<Level>().unwrap(), l);
            assert_eq!(
                serde_json::to_string(&l).unwrap(),
                format!("\"{}\"", l.as_str())
            );
        }
        assert!("village".parse::<Level>().is_err());
        assert_eq!(
            "dedicated".parse::<GridType>().unwrap(),
            GridType::Dedicated
        );
    }
}
