//! Editable code lists: client groups, client statuses, payment types. (Invoice groups are
//! full records now: invoice_group.rs.)

use super::{Actor, Audit, Store, StoreError, StoreResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeList {
    ClientGroup,
    ClientStatus,
    PaymentType,
    /// Why a service was cancelled (Mango's reasons of a termination).
    CancellationReason,
}

impl CodeList {
    pub fn as_str(self) -> &'static str {
        match self {
            CodeList::ClientGroup => "client_group",
            CodeList::ClientStatus => "client_status",
            CodeList::PaymentType => "payment_type",
            CodeList::CancellationReason => "cancellation_reason",
        }
    }

    /// The records that refer to codes of this list, counted.
    fn usage_sql(self) -> &'static str {
        match self {
            CodeList::CancellationReason => {
                "SELECT (SELECT COUNT(*) FROM subscription WHERE end_reason = $1)
                    + (SELECT COUNT(*) FROM scheduled_action WHERE reason = $1)"
            }
            CodeList::ClientGroup => "SELECT COUNT(*) FROM client_group_member WHERE code = $1",
            CodeList::ClientStatus => "SELECT COUNT(*) FROM client WHERE status = $1",
            CodeList::PaymentType => "SELECT COUNT(*) FROM client WHERE payment_type = $1",
        }
    }
}

impl Store {
    pub async fn list_codes(&self, list: CodeList) -> StoreResult<Vec<(String, String)>> {
        Ok(
            sqlx::query_as("SELECT code, label FROM code_list WHERE list = $1 ORDER BY code")
                .bind(list.as_str().to_owned())
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Adds a code or changes its label.
    pub async fn put_code(
        &self,
        actor: &Actor,
        list: CodeList,
        code: &str,
        label: &str,
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let before: Option<String> =
            sqlx::query_scalar("SELECT label FROM code_list WHERE list = $1 AND code = $2")
                .bind(list.as_str().to_owned())
                .bind(code.to_owned())
                .fetch_optional(&mut *tx)
                .await?;
        if before.is_some() {
            sqlx::query("UPDATE code_list SET label = $3 WHERE list = $1 AND code = $2")
        } else {
            sqlx::query("INSERT INTO code_list (list, code, label) VALUES ($1, $2, $3)")
        }
        .bind(list.as_str().to_owned())
        .bind(code.to_owned())
        .bind(label.to_owned())
        .execute(&mut *tx)
        .await?;
        let json =
            |label: &str| serde_json::json!({"list": list.as_str(), "code": code, "label": label});
        let key = format!("{}/{code}", list.as_str());
        let mut audit = Audit::new("code.put", "code", &key).after(&json(label));
        if let Some(before) = before.as_deref() {
            audit = audit.before(&json(before));
        }
        audit.commit(tx, actor).await?;
        Ok(())
    }

    /// Removes a code nobody uses.
    pub async fn delete_code(&self, actor: &Actor, list: CodeList, code: &str) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let in_use: i64 = sqlx::query_scalar(list.usage_sql())
            .bind(code.to_owned())
            .fetch_one(&mut *tx)
            .await?;
        if in_use > 0 {
            return Err(StoreError::Precondition(format!(
                "{} {code:?} is used by {in_use} {}",
                list.as_str(),
                match list {
                    CodeList::CancellationReason => "subscription(s)",
                    _ => "client(s)",
                }
            )));
        }
        let deleted = sqlx::query("DELETE FROM code_list WHERE list = $1 AND code = $2")
            .bind(list.as_str().to_owned())
            .bind(code.to_owned())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if deleted == 0 {
            return Err(StoreError::not_found(
                "code",
                format!("{}/{code}", list.as_str()),
            ));
        }
        Audit::new("code.delete", "code", &format!("{}/{code}", list.as_str()))
            .commit(tx, actor)
            .await?;
        Ok(())
    }
}
