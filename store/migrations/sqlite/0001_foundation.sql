-- ispd foundation schema. The PostgreSQL twin differs only in the identity column type.
-- Conventions shared by both backends:
--   money: BIGINT minor units (hundredths) -- exact, summable, never floating point;
--   flags: BIGINT 0/1 (the Any driver maps no boolean type on SQLite);
--   dates: TEXT 'YYYY-MM-DD'; timestamps: TEXT RFC 3339 UTC with microseconds, fixed width,
--   so text order is time order; secrets: TEXT sealed with the state directory's key.

CREATE TABLE code_list (
    list  TEXT NOT NULL,
    code  TEXT NOT NULL,
    label TEXT NOT NULL,
    PRIMARY KEY (list, code)
);

INSERT INTO code_list (list, code, label) VALUES
    ('client_status', 'connected', 'Connected'),
    ('client_status', 'disconnected', 'Disconnected'),
    ('client_status', 'restricted', 'Restricted'),
    ('client_status', 'non_payer', 'Non-payer'),
    ('payment_type', 'bank_transfer', 'Bank transfer'),
    ('payment_type', 'cash', 'Cash'),
    ('payment_type', 'card', 'Card'),
    ('payment_type', 'sipo', 'SIPO'),
    ('invoice_group', 'default', 'Default');

CREATE TABLE client (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    number                  TEXT NOT NULL UNIQUE,
    number_numeric          BIGINT,
    name                    TEXT NOT NULL,
    name_folded             TEXT NOT NULL,
    kind                    TEXT NOT NULL,
    name2                   TEXT NOT NULL,
    contact_person          TEXT NOT NULL,
    street                  TEXT NOT NULL,
    postcode                TEXT NOT NULL,
    city                    TEXT NOT NULL,
    country                 TEXT NOT NULL,
    gps_lat                 TEXT,
    gps_lon                 TEXT,
    floor                   TEXT NOT NULL,
    flat                    TEXT NOT NULL,
    id_number               TEXT NOT NULL,
    birth_date              TEXT,
    company_id              TEXT NOT NULL,
    vat_id                  TEXT NOT NULL,
    email                   TEXT NOT NULL,
    invoice_email           TEXT NOT NULL,
    technical_email         TEXT NOT NULL,
    business_email          TEXT NOT NULL,
    phone                   TEXT NOT NULL,
    mobile                  TEXT NOT NULL,
    fax                     TEXT NOT NULL,
    website                 TEXT NOT NULL,
    status                  TEXT NOT NULL,
    has_install_address     BIGINT NOT NULL,
    install_street          TEXT NOT NULL,
    install_postcode        TEXT NOT NULL,
    install_city            TEXT NOT NULL,
    install_country         TEXT NOT NULL,
    install_gps_lat         TEXT,
    install_gps_lon         TEXT,
    contract_returned_on    TEXT,
    highlight_reason        TEXT,
    invoice_group           TEXT NOT NULL,
    payment_type            TEXT NOT NULL,
    billing_day             BIGINT NOT NULL,
    due_days                BIGINT,
    send_by_post            BIGINT NOT NULL,
    send_by_email           BIGINT NOT NULL,
    no_auto_reminders       BIGINT NOT NULL,
    proforma                BIGINT NOT NULL,
    never_suspend           BIGINT NOT NULL,
    opening_balance_minor   BIGINT NOT NULL,
    sipo_number             TEXT NOT NULL,
    no_bulk_email           BIGINT NOT NULL,
    contact_persons_json    TEXT NOT NULL,
    note                    TEXT NOT NULL,
    internal_note_1         TEXT NOT NULL,
    internal_note_2         TEXT NOT NULL,
    portal_login            TEXT NOT NULL,
    version                 BIGINT NOT NULL,
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL
);
CREATE INDEX client_number_numeric ON client (number_numeric);
CREATE INDEX client_name_folded ON client (name_folded);
CREATE INDEX client_id_number ON client (id_number);
CREATE INDEX client_company_id ON client (company_id);
CREATE INDEX client_email ON client (email);
CREATE INDEX client_phone ON client (phone);

CREATE TABLE client_group_member (
    client_id BIGINT NOT NULL REFERENCES client (id) ON DELETE CASCADE,
    code      TEXT NOT NULL,
    PRIMARY KEY (client_id, code)
);
CREATE INDEX client_group_member_code ON client_group_member (code);

-- Assigned variable symbols are unique across clients: a bank payment must match one client.
CREATE TABLE client_variable_symbol (
    variable_symbol TEXT PRIMARY KEY,
    client_id       BIGINT NOT NULL REFERENCES client (id) ON DELETE CASCADE,
    position        BIGINT NOT NULL
);
CREATE INDEX client_variable_symbol_client ON client_variable_symbol (client_id);

CREATE TABLE client_bank_account (
    client_id BIGINT NOT NULL REFERENCES client (id) ON DELETE CASCADE,
    position  BIGINT NOT NULL,
    number    TEXT NOT NULL,
    iban      TEXT NOT NULL,
    bic       TEXT NOT NULL,
    PRIMARY KEY (client_id, position)
);
CREATE INDEX client_bank_account_number ON client_bank_account (number);
CREATE INDEX client_bank_account_iban ON client_bank_account (iban);

CREATE TABLE tariff (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    name                    TEXT NOT NULL UNIQUE,
    download_kbps           BIGINT NOT NULL,
    upload_kbps             BIGINT NOT NULL,
    burst_download_kbps     BIGINT,
    burst_upload_kbps       BIGINT,
    burst_threshold_download_kbps BIGINT,
    burst_threshold_upload_kbps   BIGINT,
    burst_time_seconds      BIGINT,
    price_minor             BIGINT NOT NULL,
    price_includes_vat      BIGINT NOT NULL,
    vat_rate                TEXT NOT NULL,
    period                  TEXT NOT NULL,
    framed_pool             TEXT NOT NULL,
    note                    TEXT NOT NULL,
    version                 BIGINT NOT NULL
);

CREATE TABLE subscription (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id               BIGINT NOT NULL REFERENCES client (id),
    tariff_id               BIGINT NOT NULL REFERENCES tariff (id),
    activation_date         TEXT NOT NULL,
    billing_from            TEXT NOT NULL,
    price_override_minor    BIGINT,
    period                  TEXT,
    commitment_until        TEXT,
    variable_symbol         TEXT UNIQUE,
    note                    TEXT NOT NULL,
    state                   TEXT NOT NULL,
    version                 BIGINT NOT NULL,
    created_at              TEXT NOT NULL
);
CREATE INDEX subscription_client ON subscription (client_id);
CREATE INDEX subscription_tariff ON subscription (tariff_id);

CREATE TABLE subscription_history (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id BIGINT NOT NULL REFERENCES subscription (id) ON DELETE CASCADE,
    at              TEXT NOT NULL,
    from_state      TEXT,
    to_state        TEXT NOT NULL,
    actor           TEXT NOT NULL,
    note            TEXT NOT NULL
);
CREATE INDEX subscription_history_subscription ON subscription_history (subscription_id);

CREATE TABLE nas (
    id                              INTEGER PRIMARY KEY AUTOINCREMENT,
    name                            TEXT NOT NULL UNIQUE,
    address                         TEXT NOT NULL UNIQUE,
    vendor                          TEXT NOT NULL,
    coa_port                        BIGINT NOT NULL,
    require_message_authenticator   BIGINT NOT NULL,
    secret_sealed                   TEXT NOT NULL,
    note                            TEXT NOT NULL,
    version                         BIGINT NOT NULL
);

CREATE TABLE login (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    username            TEXT NOT NULL UNIQUE,
    auth_type           TEXT NOT NULL,
    mac                 TEXT,
    ipv4                TEXT UNIQUE,
    ipv6_prefix         TEXT UNIQUE,
    nas_json            TEXT NOT NULL,
    attributes_json     TEXT NOT NULL,
    subscription_id     BIGINT NOT NULL REFERENCES subscription (id),
    disabled            BIGINT NOT NULL,
    note                TEXT NOT NULL,
    password_sealed     TEXT NOT NULL,
    version             BIGINT NOT NULL
);
CREATE INDEX login_subscription ON login (subscription_id);
CREATE INDEX login_mac ON login (mac);

CREATE TABLE audit (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              TEXT NOT NULL,
    actor           TEXT NOT NULL,
    action          TEXT NOT NULL,
    entity          TEXT NOT NULL,
    entity_key      TEXT NOT NULL,
    client_number   TEXT,
    before_json     TEXT,
    after_json      TEXT
);
CREATE INDEX audit_client ON audit (client_number, id);

CREATE TABLE api_token (
    name        TEXT PRIMARY KEY,
    role        TEXT NOT NULL,
    hash        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);
