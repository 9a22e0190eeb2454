"""journal entries: the database seals each document's lines and keeps them immutable

Revision ID: fa2225fdb758
Revises: e8982e7f4419
Create Date: 2026-11-22 07:51:00.781192
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel column types)
from alembic import op


revision: str = 'fa2225fdb758'
down_revision: str | None = 'e8982e7f4419'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# NB: on SQLite a later batch_alter_table on these tables copies them and loses the
# triggers: such a migration must create them again.
SQLITE_TRIGGERS = [
    """CREATE TRIGGER journal_entry_balanced BEFORE INSERT ON journal_entry BEGIN
         SELECT RAISE(ABORT, 'journal entry has no lines')
          WHERE NOT EXISTS (SELECT 1 FROM journal_line WHERE entry_id = NEW.id);
         SELECT RAISE(ABORT, 'journal entry does not balance')
          WHERE EXISTS (SELECT 1 FROM journal_line WHERE entry_id = NEW.id
                        GROUP BY currency HAVING SUM(amount) <> 0);
       END""",
    """CREATE TRIGGER journal_line_sealed BEFORE INSERT ON journal_line BEGIN
         SELECT RAISE(ABORT, 'journal entry is sealed: book a new entry')
          WHERE EXISTS (SELECT 1 FROM journal_entry WHERE id = NEW.entry_id);
       END""",
    *(f"""CREATE TRIGGER {table}_immutable_{action} BEFORE {action} ON {table} BEGIN
            SELECT RAISE(ABORT, 'booked journal rows are never changed: book a reversal');
          END"""
      for table in ("journal_entry", "journal_line") for action in ("update", "delete")),
]
SQLITE_TRIGGER_NAMES = ["journal_entry_balanced", "journal_line_sealed"] + [
    f"{table}_immutable_{action}"
    for table in ("journal_entry", "journal_line") for action in ("update", "delete")]

POSTGRES_FUNCTIONS = [
    """CREATE FUNCTION journal_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF NOT EXISTS (SELECT 1 FROM journal_line WHERE entry_id = NEW.id) THEN
           RAISE EXCEPTION 'journal entry % has no lines', NEW.id;
         END IF;
         IF EXISTS (SELECT 1 FROM journal_line WHERE entry_id = NEW.id
                    GROUP BY currency HAVING SUM(amount) <> 0) THEN
           RAISE EXCEPTION 'journal entry % does not balance', NEW.id;
         END IF;
         RETURN NEW;
       END $$""",
    """CREATE FUNCTION journal_line_sealed() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF EXISTS (SELECT 1 FROM journal_entry WHERE id = NEW.entry_id) THEN
           RAISE EXCEPTION 'journal entry % is sealed: book a new entry', NEW.entry_id;
         END IF;
         RETURN NEW;
       END $$""",
    """CREATE FUNCTION journal_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         RAISE EXCEPTION 'booked journal rows are never changed: book a reversal';
       END $$""",
    """CREATE TRIGGER journal_entry_balanced BEFORE INSERT ON journal_entry
       FOR EACH ROW EXECUTE FUNCTION journal_entry_balanced()""",
    """CREATE TRIGGER journal_line_sealed BEFORE INSERT ON journal_line
       FOR EACH ROW EXECUTE FUNCTION journal_line_sealed()""",
    """CREATE TRIGGER journal_entry_immutable BEFORE UPDATE OR DELETE ON journal_entry
       FOR EACH ROW EXECUTE FUNCTION journal_immutable()""",
    """CREATE TRIGGER journal_line_immutable BEFORE UPDATE OR DELETE ON journal_line
       FOR EACH ROW EXECUTE FUNCTION journal_immutable()""",
]


def upgrade() -> None:
    op.create_table('journal_entry',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('document_kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('document_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('booked_on', sa.Date(), nullable=False),
    sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('recorded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journal_entry'))
    )
    with op.batch_alter_table('journal_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_journal_entry_customer_id'), ['customer_id'], unique=False)

    # Lines booked before this revision: one entry per document.
    with op.batch_alter_table('journal_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('entry_id', sa.String(length=100), nullable=True))
    op.execute("UPDATE journal_line SET entry_id = document_kind || ':' || document_id")
    op.execute("""INSERT INTO journal_entry
                  (id, document_kind, document_id, customer_id, booked_on, recorded_by, recorded_at)
                  SELECT entry_id, document_kind, document_id, MIN(customer_id), MIN(booked_on),
                         'migration', CURRENT_TIMESTAMP
                    FROM journal_line GROUP BY entry_id, document_kind, document_id""")
    with op.batch_alter_table('journal_line', schema=None) as batch_op:
        batch_op.alter_column('entry_id', existing_type=sa.String(length=100), nullable=False)
        batch_op.create_index(batch_op.f('ix_journal_line_entry_id'), ['entry_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_journal_line_entry_id_journal_entry'), 'journal_entry', ['entry_id'], ['id'], initially='DEFERRED', deferrable=True)

    statements = POSTGRES_FUNCTIONS if op.get_bind().dialect.name == "postgresql" else SQLITE_TRIGGERS
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("journal_entry", "journal_line"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
        op.execute("DROP TRIGGER IF EXISTS journal_entry_balanced ON journal_entry")
        op.execute("DROP TRIGGER IF EXISTS journal_line_sealed ON journal_line")
        for function in ("journal_entry_balanced", "journal_line_sealed", "journal_immutable"):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    else:
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table('journal_line', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_journal_line_entry_id_journal_entry'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_journal_line_entry_id'))
        batch_op.drop_column('entry_id')

    with op.batch_alter_table('journal_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_journal_entry_customer_id'))

    op.drop_table('journal_entry')
