//! Storage conformance suite: every test runs against a fresh SQLite file and a fresh
//! PostgreSQL database, so both backends are held to the same behaviour.
//!
//! `cargo test -p ispd-store --lib conformance::postgres::client_round_trip` runs one test
//! on one backend. PostgreSQL tests need `ISPD_TEST_DATABASE_URL` (a role with CREATEDB;
//! `scripts/test` sets it); without it they are skipped with a note on stderr.
//!
//! One module per aggregate holds its tests; [`on_both_backends!`](crate::on_both_backends)
//! below runs each of them once per backend, so a test written once is a test on both. The
//! tests that need the daemon's billing run live beside it (`ispd::conformance`), on the same
//! testkit.

mod auth_log;
mod batches;
mod clients;
mod codes;
mod concurrency;
mod enforcement;
mod instances;
mod invoice_groups;
mod lifecycle;
mod logins;
mod persistence;
mod radius;
mod runs;
mod subscriptions;

crate::on_both_backends! {
    store: [
        clients::client_round_trip,
        clients::violation_notices_round_trip,
        clients::duplicate_client_number_conflicts,
        clients::client_numbers_are_proposed,
        clients::duplicate_identifiers_warn,
        clients::variable_symbols_are_unique_and_limited,
        clients::client_update_versions_and_audit,
        clients::client_update_replaces_everything,
        concurrency::concurrent_client_creates,
        concurrency::concurrent_updates_of_one_client,
        concurrency::concurrent_tariff_updates,
        concurrency::concurrent_subscription_updates,
        concurrency::concurrent_login_updates,
        concurrency::concurrent_nas_updates,
        concurrency::concurrent_auto_numbers,
        clients::list_clients_filters_and_pages,
        clients::list_clients_name_filter_is_literal,
        clients::search_clients_finds_by_every_identifier,
        clients::delete_client_only_without_subscriptions,
        concurrency::money_round_trips_exactly,
        subscriptions::tariffs,
        subscriptions::subscriptions,
        subscriptions::units_and_service_classes_round_trip,
        logins::logins,
        logins::nas_entries,
        codes::code_lists,
        codes::books_closing_round_trip,
        persistence::variable_symbols_name_one_client,
        persistence::large_reads_bind_numbered_parameters,
        radius::access_rows_follow_the_records,
        radius::accounting_batches_store_sessions_once,
        radius::accounting_from_two_instances_is_one_session,
        radius::a_start_repeated_to_a_writer_that_forgot_it_is_one_session,
        radius::a_late_start_to_a_writer_that_forgot_the_session_opens_nothing,
        radius::accounting_text_is_stored_as_sent,
        radius::a_session_the_sweep_closed_is_reopened_by_its_next_interim,
        radius::a_late_record_of_the_earlier_user_of_a_reused_id_is_that_users,
        enforcement::attempts_round_trip_newest_first_and_prune,
        auth_log::auth_log_filters_pages_and_prunes,
        enforcement::open_sessions_for_enforcement,
        enforcement::the_last_request_to_each_open_session,
        enforcement::speed_rules_round_trip,
        invoice_groups::invoice_groups_round_trip,
        invoice_groups::invoice_group_delete_refused_while_used,
        invoice_groups::one_off_charges,
        lifecycle::scheduled_actions_are_kept_listed_and_withdrawn,
        instances::the_change_log_records_what_alters_an_answer,
        instances::heartbeats_round_trip,
        instances::a_dead_instances_last_changes_are_found_once,
        instances::job_runs_and_the_lead,
        lifecycle::a_tariff_change_keeps_the_price_of_the_days_before,
        lifecycle::a_transfer_is_written_whole,
        lifecycle::a_price_change_and_a_scheduled_tariff_change_never_pass,
        lifecycle::alignment_round_trips,
        lifecycle::discounts_add_list_delete,
        runs::one_instance_runs_a_job,
        runs::billing_candidates_come_in_pages_of_clients,
        batches::a_batch_issued_alone_stores_what_the_general_path_does,
        batches::a_write_alone_commits_only_what_it_keeps,
    ]
    store_and_url: [
        persistence::reopened_store_keeps_data,
        radius::an_instance_hears_the_others_sessions_not_its_own,
        batches::a_bulk_write_reaches_the_database_file,
    ]
}
