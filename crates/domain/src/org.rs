//! The people and organisations hung on the region tree: functional departments (职能部门), units
//! in the six key domains (六大领域), grid teams ("1+4+X") and the five-level party organisation.
//! Accounts come later; here a person is a record with a place in the tree.

use serde::{Deserialize, Serialize};

/// A closed vocabulary: its values, each with a stable wire id and a Chinese label. A sheet's
/// drop-down offers the labels; a cell may hold either.
pub trait Vocabulary: Copy + 'static {
    fn all() -> &'static [Self];
    fn id(self) -> &'static str;
    fn label(self) -> &'static str;

    /// The value a person wrote: its label or its wire id.
    fn from_cell(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::all()
            .iter()
            .copied()
            .find(|v| v.label() == s || v.id() == s)
    }

    fn labels() -> Vec<&'static str> {
        Self::all().iter().map(|v| v.label()).collect()
    }
}

/// Declares a closed vocabulary with stable snake_case wire ids and Chinese labels.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $id:literal, $zh:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $id),+ }
            }
            pub fn label_zh(self) -> &'static str {
                match self { $($name::$variant => $zh),+ }
            }
        }

        impl $crate::org::Vocabulary for $name {
            fn all() -> &'static [Self] { $name::ALL }
            fn id(self) -> &'static str { self.as_str() }
            fn label(self) -> &'static str { self.label_zh() }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                $name::ALL.iter().copied().find(|v| v.as_str() == s)
                    .ok_or_else(|| format!("未知取值 \"{s}\"（{}）", stringify!($name)))
            }
        }
    };
}

vocabulary! {
    /// The six key domains of the article, plus general for what fits none.
    Domain {
        Rural = "rural", "乡村";
        Community = "community", "社区";
        Religion = "religion", "宗教";
        Campus = "campus", "校园";
        Enterprise = "enterprise", "企业";
        SocialOrganisation = "social_organisation", "社团";
        General = "general", "综合";
    }
}

vocabulary! {
    /// Functional departments that receive dispatched and whistled work, and the public utilities
    /// (companies, not government) that take dispatches too: a power cut goes to 供电, not 住建.
    DepartmentKind {
        PublicSecurity = "public_security", "公安";
        PoliceStation = "police_station", "派出所";
        Justice = "justice", "司法局";
        JudicialOffice = "judicial_office", "司法所";
        UrbanManagement = "urban_management", "城市管理";
        Court = "court", "法院";
        CourtTribunal = "court_tribunal", "人民法庭";
        Petitions = "petitions", "信访";
        Housing = "housing", "住房城乡建设";
        Ecology = "ecology", "生态环境";
        MarketSupervision = "market_supervision", "市场监管";
        Education = "education", "教育";
        EthnicReligious = "ethnic_religious", "民族宗教";
        EmergencyManagement = "emergency_management", "应急管理";
        Health = "health", "卫生健康";
        CivilAffairs = "civil_affairs", "民政";
        HumanResources = "human_resources", "人力资源社会保障";
        NaturalResources = "natural_resources", "自然资源";
        Transport = "transport", "交通运输";
        WaterAffairs = "water_affairs", "水务";
        FireRescue = "fire_rescue", "消防救援";
        PowerSupply = "power_supply", "供电公司";
        WaterSupply = "water_supply", "自来水公司";
        GasSupply = "gas_supply", "燃气公司";
        HeatSupply = "heat_supply", "热力公司";
        Telecom = "telecom", "通信运营商";
    }
}

vocabulary! {
    /// Places and organisations on the map.
    UnitKind {
        GovernanceCentre = "governance_centre", "综治中心";
        LegalServiceCentre = "legal_service_centre", "公共法律服务中心";
        LegalServiceStation = "legal_service_station", "公共法律服务工作站";
        LegalServiceRoom = "legal_service_room", "公共法律服务室";
        School = "school", "学校";
        ReligiousVenue = "religious_venue", "宗教活动场所";
        Enterprise = "enterprise", "企业";
        SocialOrganisation = "social_organisation", "社会组织";
        Market = "market", "市场";
        Park = "park", "园区";
    }
}

impl UnitKind {
    pub fn domain(self) -> Domain {
        match self {
            UnitKind::School => Domain::Campus,
            UnitKind::ReligiousVenue => Domain::Religion,
            UnitKind::Enterprise | UnitKind::Market | UnitKind::Park => Domain::Enterprise,
            UnitKind::SocialOrganisation => Domain::SocialOrganisation,
            UnitKind::GovernanceCentre
            | UnitKind::LegalServiceCentre
            | UnitKind::LegalServiceStation
            | UnitKind::LegalServiceRoom => Domain::General,
        }
    }
}

vocabulary! {
    /// A person's place in a grid team: "1+4+X" (one leader, four fixed members, volunteers) and
    /// the grid workers themselves.
    TeamRole {
        GridLeader = "grid_leader", "网格长";
        GridWorker = "grid_worker", "网格员";
        CommunityPolice = "community_police", "社区民警";
        LegalAdviser = "legal_adviser", "法律顾问";
        UrbanManagementOfficer = "urban_management_officer", "城管队员";
        HealthOfficer = "health_officer", "卫健专干";
        AuxiliaryPolice = "auxiliary_police", "辅警";
        Volunteer = "volunteer", "志愿者";
    }
}

vocabulary! {
    /// The two teams the registers know: the grid's "1+4+X" (one leader, four fixed members —
    /// police, legal adviser, urban management, health — and volunteers) and a community police
    /// office's "1+N+X" (one community officer, auxiliary police and grid workers, volunteers).
    TeamKind {
        Grid = "grid", "网格团队（1+4+X）";
        Policing = "policing", "警务团队（1+N+X）";
    }
}

vocabulary! {
    /// What a person in the register is: the 人员类别 column.
    PersonKind {
        Staff = "staff", "工作人员";
        FullTimeGridWorker = "full_time_grid_worker", "专职网格员";
        PartTimeGridWorker = "part_time_grid_worker", "兼职网格员";
        CommunityPolice = "community_police", "社区民警";
        AuxiliaryPolice = "auxiliary_police", "辅警";
        LegalAdviser = "legal_adviser", "法律顾问";
        Volunteer = "volunteer", "志愿者";
    }
}

impl PersonKind {
    pub fn employment(self) -> Employment {
        match self {
            PersonKind::Staff
            | PersonKind::FullTimeGridWorker
            | PersonKind::CommunityPolice
            | PersonKind::AuxiliaryPolice => Employment::FullTime,
            PersonKind::PartTimeGridWorker | PersonKind::LegalAdviser => Employment::PartTime,
            PersonKind::Volunteer => Employment::Volunteer,
        }
    }

    pub fn is_grid_worker(self) -> bool {
        matches!(
            self,
            PersonKind::FullTimeGridWorker | PersonKind::PartTimeGridWorker
        )
    }
}

vocabulary! {
    Employment {
        FullTime = "full_time", "专职";
        PartTime = "part_time", "兼职";
        Volunteer = "volunteer", "志愿";
    }
}

vocabulary! {
    /// The five-level party organisation bound to the region tree (街道党工委 → 社区党委 →
    /// 网格党支部 → 楼院党小组 → 党员中心户).
    PartyLevel {
        StreetCommittee = "street_committee", "街道（乡镇）党（工）委";
        CommunityCommittee = "community_committee", "社区（村）党组织";
        GridBranch = "grid_branch", "网格党支部";
        BuildingGroup = "building_group", "楼院党小组";
        MemberHousehold = "member_household", "党员中心户";
    }
}

impl PartyLevel {
    pub fn parent(self) -> Option<PartyLevel> {
        match self {
            PartyLevel::StreetCommittee => None,
            PartyLevel::CommunityCommittee => Some(PartyLevel::StreetCommittee),
            PartyLevel::GridBranch => Some(PartyLevel::CommunityCommittee),
            PartyLevel::BuildingGroup => Some(PartyLevel::GridBranch),
            PartyLevel::MemberHousehold => Some(PartyLevel::BuildingGroup),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_ids_are_stable_and_round_trip() {
        for k in DepartmentKind::ALL {
            assert_eq!(k.as_str().parse::<DepartmentKind>().unwrap(), *k);
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        for k in UnitKind::ALL {
            assert_eq!(k.as_str().parse::<UnitKind>().unwrap(), *k);
        }
        assert!("police".parse::<DepartmentKind>().is_err());
        assert_eq!(UnitKind::School.domain(), Domain::Campus);
    }

    #[test]
    fn party_levels_chain_up_to_the_street() {
        let mut l = PartyLevel::MemberHousehold;
        let mut depth = 1;
        while let Some(p) = l.parent() {
            l = p;
            depth += 1;
        }
        assert_eq!(depth, 5);
        assert_eq!(l, PartyLevel::StreetCommittee);
    }
}
