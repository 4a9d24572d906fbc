//! A batch on PostgreSQL: each of its statements binds a column of rows as one array, so
//! the whole batch — new sessions, changed sessions and daily usage — is written by one
//! statement, and the sessions it reads are read by another.
//!
//! Why not the multi-row `VALUES` lists SQLite gets: each is one statement text per row
//! count, so PostgreSQL parses and plans them again and again, and three of them are three
//! round trips where one does. One text for every batch is prepared once per connection.
//!
//! sqlx's `Any` driver binds no arrays, so a column travels as the text of an array literal
//! (`{"a",NULL,"b"}`), cast in the statement (`$1::text[]`); [`Arrays`] writes it by the
//! rules of PostgreSQL's array input (quoted elements, `"` and `\` escaped, `NULL` bare).

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::LazyLock;

use super::{
    Cells, INSERT_COLUMNS, Rows, SESSION_COLUMNS, SESSION_KINDS, UPDATE_SET, UPDATE_VALUES,
    UPDATE_WHERE, Written, note_inserted, note_updated, update_row, usage_row, usage_upsert,
};
use crate::StoreResult;
use crate::change_log::SESSIONS_CHANNEL;
use crate::statements::{Kind, Statements, Value};

/// The stored sessions with these NAS names and Acct-Session-Ids, ordered by id.
pub(super) async fn sessions<S: Statements>(
    conn: &mut S,
    wanted: &[(&str, &str)],
) -> StoreResult<Vec<Vec<Value<'static>>>> {
    let mut keys = Arrays::new(2);
    for (nas, id) in wanted {
        keys.push([Value::from(*nas), Value::from(*id)]);
    }
    conn.rows(&READ, keys.into_params(), &SESSION_KINDS).await
}

/// Writes a flush's rows and sends its announcement (NOTIFY, delivered at commit) in one
/// statement, and notes in `written` what took.
pub(super) async fn write<S: Statements>(
    conn: &mut S,
    rows: &Rows<'_>,
    announce: Option<String>,
    written: &mut Written,
) -> StoreResult<()> {
    if rows.creates.is_empty()
        && rows.updates.is_empty()
        && rows.usage.is_empty()
        && announce.is_none()
    {
        return Ok(());
    }
    let mut creates = Arrays::new(CREATE_TYPES.len());
    for s in &rows.creates {
        creates.push(s.row());
    }
    let mut updates = Arrays::new(UPDATE_TYPES.len());
    for (_, (before, state)) in &rows.updates {
        updates.push(update_row(before, state));
    }
    let mut usage = Arrays::new(USAGE_TYPES.len());
    for day in &rows.usage {
        usage.push(usage_row(day));
    }
    let mut params = creates.into_params();
    params.extend(updates.into_params());
    params.extend(usage.into_params());
    params.push(Value::from(announce));
    let sql: &str = &WRITE;
    let mut inserted: HashMap<String, i64> = HashMap::new();
    let mut updated: HashSet<i64> = HashSet::new();
    for row in conn.rows(sql, params, &[Kind::Int, Kind::Text]).await? {
        let mut c = Cells::new("session", row);
        // A new session has its key; a changed one none; the announcement no id.
        match (c.opt_int("id")?, c.opt_text("session_key")?) {
            (Some(id), Some(key)) => drop(inserted.insert(key, id)),
            (Some(id), None) => drop(updated.insert(id)),
            (None, _) => {}
        }
    }
    note_inserted(&rows.creates, &inserted, written);
    note_updated(&rows.updates, &updated, written);
    Ok(())
}

/// The sessions of a batch's (NAS, Acct-Session-Id) pairs, two arrays.
static READ: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {SESSION_COLUMNS} FROM session
         WHERE (nas_name, acct_session_id) IN
             (SELECT * FROM unnest(CAST($1 AS TEXT[]), CAST($2 AS TEXT[])))
         ORDER BY id"
    )
});

/// The batch's one statement: new sessions, changed sessions, daily usage, announcement.
/// Data-modifying CTEs all run, to completion, on one snapshot: the UPDATE does not see the
/// new sessions (it changes only sessions stored before), nor the usage either.
static WRITE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH new AS (
            INSERT INTO session ({INSERT_COLUMNS})
            SELECT * FROM unnest({creates})
            ON CONFLICT DO NOTHING RETURNING id, session_key
         ), changed AS (
            UPDATE session SET {UPDATE_SET}
            FROM unnest({updates}) AS v({UPDATE_VALUES})
            WHERE {UPDATE_WHERE}
            RETURNING session.id
         ), used AS (
            {usage}
         )
         SELECT id, session_key FROM new
         UNION ALL SELECT id, NULL FROM changed
         UNION ALL SELECT NULL, CAST(pg_notify('{SESSIONS_CHANNEL}', ${told}) AS TEXT)
            WHERE ${told} IS NOT NULL",
        creates = casts(1, CREATE_TYPES),
        updates = casts(1 + CREATE_TYPES.len(), UPDATE_TYPES),
        usage = usage_upsert(&format!(
            "SELECT * FROM unnest({}) AS u(column1, column2, column3, column4, column5)",
            casts(1 + CREATE_TYPES.len() + UPDATE_TYPES.len(), USAGE_TYPES)
        )),
        told = 1 + CREATE_TYPES.len() + UPDATE_TYPES.len() + USAGE_TYPES.len(),
    )
});

/// The array types of [`super::NewSession::row`]'s columns.
const CREATE_TYPES: &[&str] = &[
    "TEXT", "TEXT", "TEXT", "BIGINT", "TEXT", "TEXT", "TEXT", "TEXT", "TEXT", "TEXT", "TEXT",
    "TEXT", "BIGINT", "BIGINT", "BIGINT", "BIGINT", "BIGINT", "TEXT", "TEXT",
];
/// The array types of [`update_row`]'s columns.
const UPDATE_TYPES: &[&str] = &[
    "BIGINT", "TEXT", "TEXT", "TEXT", "BIGINT", "BIGINT", "BIGINT", "BIGINT", "BIGINT", "BIGINT",
    "TEXT", "BIGINT",
];
/// The array types of [`usage_row`]'s columns.
const USAGE_TYPES: &[&str] = &["BIGINT", "TEXT", "BIGINT", "BIGINT", "BIGINT"];

/// `CAST($first AS T[]), CAST($first+1 AS U[]), …` for the given element types.
fn casts(first: usize, types: &[&str]) -> String {
    let mut sql = String::new();
    for (i, ty) in types.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        let _ = write!(sql, "CAST(${} AS {ty}[])", first + i);
    }
    sql
}

/// Rows gathered as columns, each column the text of a PostgreSQL array literal.
struct Arrays {
    columns: Vec<String>,
}

impl Arrays {
    fn new(columns: usize) -> Arrays {
        Arrays {
            columns: vec![String::from("{"); columns],
        }
    }

    /// Appends one row; it has as many values as there are columns.
    fn push<const N: usize>(&mut self, row: [Value<'_>; N]) {
        debug_assert_eq!(N, self.columns.len());
        for (column, value) in self.columns.iter_mut().zip(row) {
            if column.len() > 1 {
                column.push(',');
            }
            element(column, &value);
        }
    }

    /// One text parameter per column.
    fn into_params(self) -> Vec<Value<'static>> {
        self.columns
            .into_iter()
            .map(|mut column| {
                column.push('}');
                Value::from(column)
            })
            .collect()
    }
}

/// One array element: `NULL`, an integer, or text in double quotes with `"` and `\`
/// escaped by a backslash (so braces, commas, spaces and the word NULL stay text).
fn element(literal: &mut String, value: &Value<'_>) {
    match value {
        Value::Int(None) | Value::Text(None) => literal.push_str("NULL"),
        Value::Int(Some(v)) => {
            let _ = write!(literal, "{v}");
        }
        Value::Text(Some(text)) => {
            literal.push('"');
            for c in text.chars() {
                if c == '"' || c == '\\' {
                    literal.push('\\');
                }
                literal.push(c);
            }
            literal.push('"');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn literal(rows: Vec<[Value<'static>; 2]>) -> Vec<String> {
        let mut arrays = Arrays::new(2);
        for row in rows {
            arrays.push(row);
        }
        arrays
            .into_params()
            .into_iter()
            .map(|v| v.into_text().unwrap())
            .collect()
    }

    #[test]
    fn array_literals_quote_text_and_leave_null_bare() {
        assert_eq!(literal(vec![]), ["{}", "{}"]);
        assert_eq!(
            literal(vec![
                [Value::from(7), Value::from("plain")],
                [Value::Int(None), Value::Text(None)],
                [Value::from(-1), Value::from("NULL")],
                [
                    Value::from(0),
                    Value::from(r#"a "quoted", {braced} \ text"#)
                ],
            ]),
            [
                "{7,NULL,-1,0}",
                r#"{"plain",NULL,"NULL","a \"quoted\", {braced} \\ text"}"#
            ]
        );
    }
}
