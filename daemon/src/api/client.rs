//! ClientService: the client card over gRPC.

use ispd_admin_proto::v1;
use ispd_billing::client::{
    Address, BankAccount, Characteristic, Client, ClientKind, ContactPerson, Duplicate, Gps,
    Invoicing, Relationship,
};
use ispd_billing::erasure::Category;
use ispd_billing::money;
use tonic::{Request, Response, Status};

use super::{AdminState, Reply, date, date_text, field, invalid, page, paged, required, written};
use crate::app::clients;
use crate::connections::ConnHandle;
use crate::storage::ClientFilter;

fn address_from(prefix: &str, a: v1::Address) -> Result<Address, Status> {
    let gps = match (a.gps_lat.trim(), a.gps_lon.trim()) {
        ("", "") => None,
        (lat, lon) => Some(Gps {
            lat: money::parse(&format!("{prefix}.gps_lat"), lat).map_err(invalid)?,
            lon: money::parse(&format!("{prefix}.gps_lon"), lon).map_err(invalid)?,
        }),
    };
    Ok(Address {
        street: a.street.trim().to_owned(),
        postcode: a.postcode.trim().to_owned(),
        city: a.city.trim().to_owned(),
        country: a.country.trim().to_owned(),
        gps,
    })
}

fn address_to(a: &Address) -> v1::Address {
    v1::Address {
        street: a.street.clone(),
        postcode: a.postcode.clone(),
        city: a.city.clone(),
        country: a.country.clone(),
        gps_lat: a.gps.map(|g| g.lat.to_string()).unwrap_or_default(),
        gps_lon: a.gps.map(|g| g.lon.to_string()).unwrap_or_default(),
    }
}

/// The API message as a domain record; defaults are applied by storage.
pub(super) fn client_from(c: v1::Client) -> Result<Client, Status> {
    let kind = match v1::ClientKind::try_from(c.kind) {
        Ok(v1::ClientKind::Unspecified | v1::ClientKind::Private) => ClientKind::Private,
        Ok(v1::ClientKind::Corporate) => ClientKind::Corporate,
        Ok(v1::ClientKind::SoleTrader) => ClientKind::SoleTrader,
        Err(_) => return Err(field("client.kind", "private, corporate or sole_trader")),
    };
    let relationship = relationship_from(&c)?;
    let installation_address = match c.installation_address {
        Some(a) if a != v1::Address::default() => {
            Some(address_from("client.installation_address", a)?)
        }
        _ => None,
    };
    let registration_ip = match c.registration_ip.trim() {
        "" => None,
        ip => Some(ip.parse().map_err(|_| {
            field(
                "client.registration_ip",
                format!("not an IPv4 or IPv6 address: {ip:?}"),
            )
        })?),
    };
    Ok(Client {
        id: c.id,
        number: c.number.trim().to_owned(),
        name: c.name.trim().to_owned(),
        kind,
        name2: c.name2,
        contact_person: c.contact_person,
        address: address_from("client.address", c.address.unwrap_or_default())?,
        floor: c.floor,
        flat: c.flat,
        id_number: c.id_number.trim().to_owned(),
        birth_date: date("client.birth_date", &c.birth_date)?,
        company_id: c.company_id.trim().to_owned(),
        vat_id: c.vat_id.trim().to_owned(),
        email: c.email.trim().to_owned(),
        invoice_email: c.invoice_email.trim().to_owned(),
        technical_email: c.technical_email.trim().to_owned(),
        business_email: c.business_email.trim().to_owned(),
        phone: c.phone,
        mobile: c.mobile,
        fax: c.fax,
        website: c.website,
        groups: c.groups,
        status: c.status,
        installation_address,
        bank_accounts: c
            .bank_accounts
            .into_iter()
            .map(|b| BankAccount {
                number: b.number.trim().to_owned(),
                iban: b.iban.replace(' ', "").to_uppercase(),
                bic: b.bic.trim().to_uppercase(),
            })
            .collect(),
        contract_returned_on: date("client.contract_returned_on", &c.contract_returned_on)?,
        highlight: c.highlighted.then_some(c.highlight_reason),
        invoicing: invoicing_from(c.invoicing.unwrap_or_default())?,
        no_bulk_email: c.no_bulk_email,
        contact_persons: c
            .contact_persons
            .into_iter()
            .map(|p| ContactPerson {
                name: p.name,
                role: p.role,
                email: p.email,
                phone: p.phone,
                note: p.note,
            })
            .collect(),
        note: c.note,
        internal_note_1: c.internal_note_1,
        internal_note_2: c.internal_note_2,
        portal_login: c.portal_login,
        language: c.language.trim().to_owned(),
        relationship,
        registration_ip,
        version: c.version,
    })
}

/// How the client came and how the operator sees them.
fn relationship_from(c: &v1::Client) -> Result<Relationship, Status> {
    let characteristic = match c.characteristic.trim() {
        "" => Characteristic::Ordinary,
        text => characteristic(text, "client.characteristic")?,
    };
    Ok(Relationship {
        characteristic,
        referrer: c.referrer.trim().to_owned(),
        referral_source: c.referral_source.trim().to_owned(),
        partner_programme: c.partner_programme.trim().to_owned(),
    })
}

fn characteristic(text: &str, name: &str) -> Result<Characteristic, Status> {
    Characteristic::parse(text)
        .ok_or_else(|| field(name, format!("ordinary, good or conflict, not {text:?}")))
}

/// The invoicing part of the client card.
fn invoicing_from(inv: v1::Invoicing) -> Result<Invoicing, Status> {
    Ok(Invoicing {
        invoice_group: inv.invoice_group,
        payment_type: inv.payment_type,
        billing_day: inv.billing_day,
        due_days: inv.due_days,
        send_by_post: inv.send_by_post,
        send_by_email: inv.send_by_email.unwrap_or(true),
        no_auto_reminders: inv.no_auto_reminders,
        proforma: inv.proforma,
        never_suspend: inv.never_suspend,
        suspend_after_days: inv.suspend_after_days,
        variable_symbols: inv
            .variable_symbols
            .into_iter()
            .map(|v| v.trim().to_owned())
            .collect(),
        opening_balance: money::parse("client.invoicing.opening_balance", &inv.opening_balance)
            .map_err(invalid)?,
        sipo_number: inv.sipo_number,
    })
}

pub(super) fn client_to(c: &Client) -> v1::Client {
    v1::Client {
        id: c.id,
        number: c.number.clone(),
        name: c.name.clone(),
        kind: match c.kind {
            ClientKind::Private => v1::ClientKind::Private,
            ClientKind::Corporate => v1::ClientKind::Corporate,
            ClientKind::SoleTrader => v1::ClientKind::SoleTrader,
        } as i32,
        name2: c.name2.clone(),
        contact_person: c.contact_person.clone(),
        address: Some(address_to(&c.address)),
        floor: c.floor.clone(),
        flat: c.flat.clone(),
        id_number: c.id_number.clone(),
        birth_date: date_text(c.birth_date),
        company_id: c.company_id.clone(),
        vat_id: c.vat_id.clone(),
        email: c.email.clone(),
        invoice_email: c.invoice_email.clone(),
        technical_email: c.technical_email.clone(),
        business_email: c.business_email.clone(),
        phone: c.phone.clone(),
        mobile: c.mobile.clone(),
        fax: c.fax.clone(),
        website: c.website.clone(),
        groups: c.groups.clone(),
        status: c.status.clone(),
        installation_address: c.installation_address.as_ref().map(address_to),
        bank_accounts: c
            .bank_accounts
            .iter()
            .map(|b| v1::BankAccount {
                number: b.number.clone(),
                iban: b.iban.clone(),
                bic: b.bic.clone(),
            })
            .collect(),
        contract_returned_on: date_text(c.contract_returned_on),
        highlighted: c.highlight.is_some(),
        highlight_reason: c.highlight.clone().unwrap_or_default(),
        invoicing: Some(invoicing_to(&c.invoicing)),
        no_bulk_email: c.no_bulk_email,
        contact_persons: c
            .contact_persons
            .iter()
            .map(|p| v1::ContactPerson {
                name: p.name.clone(),
                role: p.role.clone(),
                email: p.email.clone(),
                phone: p.phone.clone(),
                note: p.note.clone(),
            })
            .collect(),
        note: c.note.clone(),
        internal_note_1: c.internal_note_1.clone(),
        internal_note_2: c.internal_note_2.clone(),
        portal_login: c.portal_login.clone(),
        version: c.version,
        language: c.language.clone(),
        characteristic: c.relationship.characteristic.as_str().to_owned(),
        referrer: c.relationship.referrer.clone(),
        referral_source: c.relationship.referral_source.clone(),
        partner_programme: c.relationship.partner_programme.clone(),
        registration_ip: c
            .registration_ip
            .map(|ip| ip.to_string())
            .unwrap_or_default(),
    }
}

/// The invoicing part of the card as the API states it.
fn invoicing_to(i: &Invoicing) -> v1::Invoicing {
    v1::Invoicing {
        invoice_group: i.invoice_group.clone(),
        payment_type: i.payment_type.clone(),
        billing_day: i.billing_day,
        due_days: i.due_days,
        send_by_post: i.send_by_post,
        send_by_email: Some(i.send_by_email),
        no_auto_reminders: i.no_auto_reminders,
        proforma: i.proforma,
        never_suspend: i.never_suspend,
        suspend_after_days: i.suspend_after_days,
        variable_symbols: i.variable_symbols.clone(),
        opening_balance: i.opening_balance.to_string(),
        sipo_number: i.sipo_number.clone(),
    }
}

fn response(client: &Client, warnings: &[Duplicate]) -> v1::ClientResponse {
    v1::ClientResponse {
        client: Some(client_to(client)),
        warnings: warnings.iter().map(ToString::to_string).collect(),
    }
}

#[tonic::async_trait]
impl v1::client_service_server::ClientService for AdminState {
    async fn create_client(
        &self,
        request: Request<v1::CreateClientRequest>,
    ) -> Reply<v1::ClientResponse> {
        // Where the card was registered from, unless the request names it (a portal's sign-up).
        let caller = request
            .extensions()
            .get::<ConnHandle>()
            .and_then(ConnHandle::peer)
            .map(|a| a.ip());
        let (actor, r) = written(request)?;
        let mut client = client_from(required(r.client, "client")?)?;
        client.registration_ip = client.registration_ip.or(caller);
        let (client, warnings) = clients::create(&self.app(), &actor, client).await?;
        Ok(Response::new(response(&client, &warnings)))
    }

    async fn get_client(&self, request: Request<v1::GetClientRequest>) -> Reply<v1::Client> {
        let client = clients::get(&self.app(), &request.into_inner().number).await?;
        Ok(Response::new(client_to(&client)))
    }

    async fn update_client(
        &self,
        request: Request<v1::UpdateClientRequest>,
    ) -> Reply<v1::ClientResponse> {
        let (actor, r) = written(request)?;
        let client = required(r.client, "client")?;
        if client.number.is_empty() {
            return Err(field(
                "client.number",
                "required: it says which client to update",
            ));
        }
        let (client, warnings) = clients::update(&self.app(), &actor, client_from(client)?).await?;
        Ok(Response::new(response(&client, &warnings)))
    }

    async fn list_clients(
        &self,
        request: Request<v1::ListClientsRequest>,
    ) -> Reply<v1::ListClientsResponse> {
        let r = request.into_inner();
        let filter = ClientFilter {
            name_contains: r.name_contains,
            group: r.group,
            status: r.status,
            city: r.city,
            contract_returned: match r.contract.as_str() {
                "" => None,
                "returned" => Some(true),
                "not_returned" => Some(false),
                other => {
                    return Err(field(
                        "contract",
                        format!("returned or not_returned, not {other:?}"),
                    ));
                }
            },
            tariff: r.tariff,
            registered_since: None,
            registered_before: None,
            owing: r.owing,
            language: r.language.trim().to_owned(),
            characteristic: match r.characteristic.trim() {
                "" => None,
                text => Some(characteristic(text, "characteristic")?),
            },
        };
        let registered = (
            date("registered_from", &r.registered_from)?,
            date("registered_until", &r.registered_until)?,
        );
        let page = clients::list(&self.app(), filter, registered, page(r.page)?).await?;
        let (clients, next_page_token) = paged(page, |c| client_to(&c));
        Ok(Response::new(v1::ListClientsResponse {
            clients,
            next_page_token,
        }))
    }

    async fn erase_client_data(
        &self,
        request: Request<v1::EraseClientDataRequest>,
    ) -> Reply<v1::Client> {
        let (actor, r) = written(request)?;
        let categories = r
            .categories
            .iter()
            .map(|c| {
                Category::parse(c.trim()).ok_or_else(|| {
                    field(
                        "categories",
                        format!("contact, identity, address, bank or notes, not {c:?}"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let client = clients::erase(&self.app(), &actor, &r.number, &categories, r.confirm).await?;
        Ok(Response::new(client_to(&client)))
    }

    async fn delete_client(
        &self,
        request: Request<v1::DeleteClientRequest>,
    ) -> Reply<v1::DeleteClientResponse> {
        let (actor, r) = written(request)?;
        clients::delete(&self.app(), &actor, &r.number, r.confirm).await?;
        Ok(Response::new(v1::DeleteClientResponse {}))
    }

    async fn add_violation(
        &self,
        request: Request<v1::AddViolationRequest>,
    ) -> Reply<v1::Violation> {
        super::violation::add(self, request).await
    }

    async fn list_violations(
        &self,
        request: Request<v1::ListViolationsRequest>,
    ) -> Reply<v1::ListViolationsResponse> {
        super::violation::list(self, request).await
    }

    async fn resolve_violation(
        &self,
        request: Request<v1::ResolveViolationRequest>,
    ) -> Reply<v1::Violation> {
        super::violation::resolve(self, request).await
    }

    async fn enforce_violations(
        &self,
        request: Request<v1::EnforceViolationsRequest>,
    ) -> Reply<v1::EnforceViolationsResponse> {
        super::violation::enforce(self, request).await
    }

    async fn search_clients(
        &self,
        request: Request<v1::SearchClientsRequest>,
    ) -> Reply<v1::SearchClientsResponse> {
        let r = request.into_inner();
        let hits = clients::search(&self.app(), &r.query, r.limit).await?;
        Ok(Response::new(v1::SearchClientsResponse {
            hits: hits
                .into_iter()
                .map(|h| v1::SearchHit {
                    client: Some(client_to(&h.client)),
                    matched: h.matched.to_owned(),
                })
                .collect(),
        }))
    }

    async fn next_client_number(
        &self,
        _request: Request<v1::NextClientNumberRequest>,
    ) -> Reply<v1::NextClientNumberResponse> {
        Ok(Response::new(v1::NextClientNumberResponse {
            number: clients::next_number(&self.app()).await?,
        }))
    }
}
