-- Whether a session's stop was presumed by ispd (the stale-session sweep: no update for
-- `stale_after`) rather than reported by the NAS. A later Interim of such a session reopens
-- it and a later Stop replaces it, so a NAS cut off from ispd for a while does not leave its
-- sessions out of Simultaneous-Use and enforcement for good. Stops from before are kept as
-- reported: which of them the sweep made cannot be told apart from a NAS's Lost-Carrier.
ALTER TABLE session ADD COLUMN stop_presumed BIGINT NOT NULL DEFAULT 0;
