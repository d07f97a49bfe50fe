-- Refunds on four eyes: giving a payment back is asked for by one of the site's managers or an
-- admin and done only once another approves it. The refund itself (through the provider, or
-- recorded as paid back by hand) runs at the approval, as the approver; `approving` holds the
-- request while the provider is asked, so two approvals at once refund once. Nothing here is
-- deleted: a refused or withdrawn request stays with who decided and when.
CREATE TABLE refund_requests (
    id            INTEGER PRIMARY KEY,
    site_id       BIGINT NOT NULL REFERENCES sites (id),
    payment_id    BIGINT NOT NULL REFERENCES payments (id),
    amount_minor  BIGINT NOT NULL CHECK (amount_minor > 0),
    reason        TEXT NOT NULL,
    by_hand       BOOLEAN NOT NULL,
    asked_by      BIGINT NOT NULL REFERENCES users (id),
    asked_at      TEXT NOT NULL,
    state         TEXT NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'approving', 'refunded', 'refused', 'withdrawn')),
    decided_by    BIGINT REFERENCES users (id),
    decided_at    TEXT
);
CREATE INDEX refund_requests_by_site ON refund_requests (site_id, state);
CREATE INDEX refund_requests_by_payment ON refund_requests (payment_id, state);
