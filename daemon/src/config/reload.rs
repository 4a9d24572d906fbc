//! What a SIGHUP may change. Some keys are read once, at start — the files and sockets the
//! daemon holds, the zone its clock counts in, the log, the limits of its listeners, the
//! stale-session sweep's timing: a reload keeps their running values and names those that
//! wait for a restart. Found probing from outside: a reloaded `state_dir` was half applied
//! (the backup's copy and the statement upload went to the new directory, the guard of the
//! live database looked at the wrong one) and other keys were ignored without a word.

use super::Config;

impl Config {
    /// This configuration as a reload applies it over the `running` one: the keys read only
    /// at start keep their running values. Returns it with the names of the keys whose new
    /// values wait for a restart.
    pub fn reloaded_over(mut self, running: &Config) -> (Config, Vec<&'static str>) {
        let mut waiting = Vec::new();
        let mut keep = |key, changed: bool| {
            if changed {
                waiting.push(key);
            }
        };
        keep("state_dir", self.state_dir != running.state_dir);
        self.state_dir.clone_from(&running.state_dir);
        keep(
            "log",
            (&self.log.level, self.log.format) != (&running.log.level, running.log.format),
        );
        self.log = running.log.clone();
        keep(
            "database",
            (&self.database.url, self.database.max_connections)
                != (&running.database.url, running.database.max_connections),
        );
        self.database = running.database.clone();
        let radius = (
            &self.radius.auth_listen,
            &self.radius.acct_listen,
            self.radius.stale_after,
        );
        let was = (
            &running.radius.auth_listen,
            &running.radius.acct_listen,
            running.radius.stale_after,
        );
        keep(
            "radius.auth_listen, acct_listen, stale_after",
            radius != was,
        );
        self.radius
            .auth_listen
            .clone_from(&running.radius.auth_listen);
        self.radius
            .acct_listen
            .clone_from(&running.radius.acct_listen);
        self.radius.stale_after = running.radius.stale_after;
        let (admin, was) = (&self.admin, &running.admin);
        keep(
            "admin.listen, max_connections, idle_timeout, TLS on or off",
            (
                admin.listen,
                admin.max_connections,
                admin.idle_timeout,
                admin.tls(),
            ) != (was.listen, was.max_connections, was.idle_timeout, was.tls()),
        );
        if self.admin.tls() != running.admin.tls() {
            // The certificate files reload; turning TLS on or off waits.
            self.admin.tls_cert.clone_from(&running.admin.tls_cert);
            self.admin.tls_key.clone_from(&running.admin.tls_key);
            self.admin
                .tls_client_ca
                .clone_from(&running.admin.tls_client_ca);
        }
        (
            self.admin.listen,
            self.admin.max_connections,
            self.admin.idle_timeout,
        ) = (was.listen, was.max_connections, was.idle_timeout);
        let (metrics, was) = (&self.metrics, &running.metrics);
        keep(
            "metrics",
            (
                metrics.listen,
                metrics.max_connections,
                metrics.idle_timeout,
            ) != (was.listen, was.max_connections, was.idle_timeout),
        );
        self.metrics = running.metrics.clone();
        keep(
            "billing.timezone",
            self.billing.timezone != running.billing.timezone,
        );
        self.billing.timezone.clone_from(&running.billing.timezone);
        keep("auth_log", self.auth_log != running.auth_log);
        self.auth_log = running.auth_log.clone();
        (self, waiting)
    }
}
