//! The sheet of accounts opened in bulk (批量开通账号): each row a person of the people register
//! (by ID-card number), the username to give them, the role proposed and its scope. What needs
//! the database (the person, the scope, a username already taken) the application checks; here,
//! each cell and the rows against each other.

use super::{Column, Layout, Problem, Sheet, mask_personal};
use crate::access::Role;
use std::collections::HashMap;

pub const SHEET: &str = "账号";
pub const ID_NUMBER: &str = "身份证号";
pub const USERNAME: &str = "用户名";
pub const ROLE: &str = "角色";
pub const SCOPE: &str = "范围代码";
pub const DISPLAY_NAME: &str = "显示名";

/// The roles an account opened in bulk may be proposed (administrators are made one by one, on
/// the server).
pub fn business_roles() -> Vec<&'static str> {
    Role::ALL
        .iter()
        .filter(|r| !r.is_administrator())
        .map(|r| r.label_zh())
        .collect()
}

pub const COLUMNS: &[Column] = &[
    Column {
        header: ID_NUMBER,
        required: true,
        text: true,
        personal: true,
        help: "账号所属人员的身份证号，设为文本格式；人员须已在人员台账中（离职时账号随之停用）",
        choices: None,
        width: 22.0,
    },
    Column {
        header: USERNAME,
        required: true,
        text: true,
        personal: false,
        help: "登录用的用户名，1–64 个字符，不含空格，如 wgy.zhangwei",
        choices: None,
        width: 18.0,
    },
    Column {
        header: ROLE,
        required: true,
        text: false,
        personal: false,
        help: "从下拉列表选择；三类管理员账号不能批量开通",
        choices: Some(business_roles),
        width: 20.0,
    },
    Column {
        header: SCOPE,
        required: true,
        text: true,
        personal: false,
        help: "网格员填 15 位网格编码；职能部门工作人员填部门编码；其他角色填 12 位区划代码",
        choices: None,
        width: 18.0,
    },
    Column {
        header: DISPLAY_NAME,
        required: false,
        text: false,
        personal: false,
        help: "页面上显示的名字，为空时用人员台账中的姓名",
        choices: None,
        width: 16.0,
    },
];

/// An account as one row asks for it.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountRecord {
    pub row: u32,
    pub id_number: String,
    pub username: String,
    pub role: Role,
    pub scope: String,
    pub display_name: Option<String>,
}

fn role_from(s: &str) -> Option<Role> {
    Role::ALL
        .iter()
        .copied()
        .find(|r| r.label_zh() == s || r.as_str() == s)
}

/// Reads and checks the whole sheet: the records, or every problem found.
pub fn read(sheet: &Sheet) -> Result<Vec<AccountRecord>, Vec<Problem>> {
    let mut problems = Vec::new();
    let Some(layout) = Layout::of(sheet, COLUMNS, &mut problems) else {
        return Err(problems);
    };
    let mut records = Vec::new();
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut names: HashMap<String, u32> = HashMap::new();
    for (number, cells) in layout.rows() {
        let before = problems.len();
        let mut row = layout.row(number, cells, &mut problems);
        let id = row.id_number(ID_NUMBER);
        if let Some(id) = &id {
            match ids.get(id) {
                Some(first) => row.problem(
                    Some(ID_NUMBER),
                    format!("{} 与第{first}行是同一人", mask_personal(id)),
                ),
                None => {
                    ids.insert(id.clone(), number);
                }
            }
        }
        let username = row.text(USERNAME);
        if let Some(u) = &username {
            if u.chars().count() > 64 || u.chars().any(|c| c.is_whitespace() || c.is_control()) {
                row.problem(Some(USERNAME), "用户名应为1–64个字符且不含空格");
            }
            match names.get(&u.to_lowercase()) {
                Some(first) => row.problem(Some(USERNAME), format!("用户名 {u} 与第{first}行重复")),
                None => {
                    names.insert(u.to_lowercase(), number);
                }
            }
        }
        let role = row.text(ROLE).and_then(|s| match role_from(&s) {
            Some(r) if r.is_administrator() => {
                row.problem(
                    Some(ROLE),
                    format!(
                        "{}账号不能批量开通，请在服务器上用 wangge user add 逐个创建",
                        r.label_zh()
                    ),
                );
                None
            }
            Some(r) => Some(r),
            None => {
                row.problem(
                    Some(ROLE),
                    format!(
                        "“{s}”不是可选的角色（可选：{}）",
                        business_roles().join("、")
                    ),
                );
                None
            }
        });
        let scope = row.text(SCOPE);
        let display_name = row.bounded(DISPLAY_NAME, 50);
        if problems.len() > before {
            continue;
        }
        if let (Some(id_number), Some(username), Some(role), Some(scope)) =
            (id, username, role, scope)
        {
            records.push(AccountRecord {
                row: number,
                id_number,
                username,
                role,
                scope,
                display_name,
            });
        }
    }
    if problems.is_empty() {
        Ok(records)
    } else {
        problems.sort_by_key(|p| (p.row, p.column));
        Err(problems)
    }
}
