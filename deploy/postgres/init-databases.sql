-- Run once by the postgres image on an empty data volume (docker-entrypoint-initdb.d),
-- as POSTGRES_USER (recoup), who therefore owns them: one database per service.
CREATE DATABASE recoup_credit;
CREATE DATABASE recoup_ledger;
CREATE DATABASE recoup_reconciliation;
CREATE DATABASE recoup_collections;
CREATE DATABASE recoup_webhooks;
