"""dossier, ratings, read models of invoices and payments, reservations, agreements, detections

Revision ID: 05da49439645
Revises: 68204451c5fe
Create Date: 2026-12-01 09:06:59.153314
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel column types)
from alembic import op

revision: str = '05da49439645'
down_revision: str | None = '68204451c5fe'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Columns added to tables that may hold rows get server defaults (existing customers are
    # at dossier version 1, existing signals were reported). Credit learns overdue invoices
    # from the ledger's news after this revision; holds placed before it stay until a
    # position shows nothing overdue.
    op.create_table('agreement',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('invoice_ids', sa.JSON(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=True),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement'))
    )
    with op.batch_alter_table('agreement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_customer_id'), ['customer_id'], unique=False)

    op.create_table('detection',
    sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('detector', sqlmodel.sql.sqltypes.AutoString(length=96), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('signal_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('changed_on', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('customer_id', 'detector', name=op.f('pk_detection'))
    )
    op.create_table('dispute',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('statement_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('invoice_ids', sa.JSON(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('resolved', sa.Boolean(), nullable=False),
    sa.Column('resolution', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispute'))
    )
    with op.batch_alter_table('dispute', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dispute_customer_id'), ['customer_id'], unique=False)

    op.create_table('dossier_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('field', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('changed_by', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dossier_change'))
    )
    with op.batch_alter_table('dossier_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dossier_change_customer_id'), ['customer_id'], unique=False)

    op.create_table('invoice_view',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=True),
    sa.Column('issue_date', sa.Date(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('order_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('days_past_due', sa.Integer(), nullable=False),
    sa.Column('overdue_since', sa.Date(), nullable=True),
    sa.Column('declared_version', sa.Integer(), nullable=True),
    sa.Column('settled_on', sa.Date(), nullable=True),
    sa.Column('written_off', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_view'))
    )
    with op.batch_alter_table('invoice_view', schema=None) as batch_op:
        batch_op.create_index('ix_invoice_view_customer', ['customer_id', 'settled_on'], unique=False)

    op.create_table('payment_line',
    sa.Column('payment_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('invoice_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('payment_id', 'invoice_id', name=op.f('pk_payment_line'))
    )
    with op.batch_alter_table('payment_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_line_customer_id'), ['customer_id'], unique=False)

    op.create_table('promise',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('promised_on', sa.Date(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('settled_on', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promise'))
    )
    with op.batch_alter_table('promise', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_promise_customer_id'), ['customer_id'], unique=False)

    op.create_table('purchase_month',
    sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('month', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('invoices', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('customer_id', 'currency', 'month', name=op.f('pk_purchase_month'))
    )
    op.create_table('rating',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('trigger', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('review_period', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=True),
    sa.Column('rating_class', sqlmodel.sql.sqltypes.AutoString(length=1), nullable=False),
    sa.Column('previous_class', sqlmodel.sql.sqltypes.AutoString(length=1), nullable=True),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('factors', sa.JSON(), nullable=False),
    sa.Column('inputs', sa.JSON(), nullable=False),
    sa.Column('recommended_limit_amount', sa.BigInteger(), nullable=True),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('rated_by', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('rated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rating')),
    sa.UniqueConstraint('customer_id', 'review_period', name=op.f('uq_rating_customer_id_review_period'))
    )
    with op.batch_alter_table('rating', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rating_customer_id'), ['customer_id'], unique=False)

    op.create_table('reservation',
    sa.Column('order_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('check_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('invoice_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('consumed_at_version', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('cancel_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.PrimaryKeyConstraint('order_id', name=op.f('pk_reservation'))
    )
    with op.batch_alter_table('reservation', schema=None) as batch_op:
        batch_op.create_index('ix_reservation_open', ['customer_id', 'status'], unique=False)

    with op.batch_alter_table('balance_view', schema=None) as batch_op:
        batch_op.alter_column('balance',
               existing_type=sa.INTEGER(),
               type_=sa.BigInteger(),
               existing_nullable=False)
        batch_op.alter_column('overdue',
               existing_type=sa.INTEGER(),
               type_=sa.BigInteger(),
               existing_nullable=False)

    with op.batch_alter_table('credit_check', schema=None) as batch_op:
        batch_op.add_column(sa.Column('exposure', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('limit_amount', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('rating_class', sqlmodel.sql.sqltypes.AutoString(length=1), nullable=True))
        batch_op.alter_column('amount',
               existing_type=sa.INTEGER(),
               type_=sa.BigInteger(),
               existing_nullable=False)
        batch_op.alter_column('max_amount',
               existing_type=sa.INTEGER(),
               type_=sa.BigInteger(),
               existing_nullable=True)
        batch_op.drop_index(batch_op.f('ix_credit_check_customer_id'))
        batch_op.create_index('ix_credit_check_customer_time', ['customer_id', 'checked_at', 'id'], unique=False)

    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
        batch_op.add_column(sa.Column('financial_status', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('market_network', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('sales_ability', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('organisation', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('documents', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('dossier_version', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('rated_as_of', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('rated_worst_days', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('news_as_of', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('recommended_limit_amount', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('has_payment_history', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('receivable_class', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('broken_promise', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('first_purchase_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('last_order_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('last_payment_on', sa.Date(), nullable=True))
        batch_op.alter_column('credit_limit_amount',
               existing_type=sa.INTEGER(),
               type_=sa.BigInteger(),
               existing_nullable=False)
        batch_op.drop_column('max_days_past_due')

    with op.batch_alter_table('hold', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cause_ref', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('stage', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('incentives', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('override_lapsed', sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table('signal', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False, server_default='reported'))
        batch_op.add_column(sa.Column('evidence', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('resolved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('resolved_by', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True))
        batch_op.add_column(sa.Column('resolution', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.alter_column('recorded_by',
               existing_type=sa.VARCHAR(length=64),
               type_=sqlmodel.sql.sqltypes.AutoString(length=128),
               existing_nullable=False)



def downgrade() -> None:
    with op.batch_alter_table('signal', schema=None) as batch_op:
        batch_op.alter_column('recorded_by',
               existing_type=sqlmodel.sql.sqltypes.AutoString(length=128),
               type_=sa.VARCHAR(length=64),
               existing_nullable=False)
        batch_op.drop_column('resolution')
        batch_op.drop_column('resolved_by')
        batch_op.drop_column('resolved_at')
        batch_op.drop_column('evidence')
        batch_op.drop_column('origin')

    with op.batch_alter_table('hold', schema=None) as batch_op:
        batch_op.drop_column('override_lapsed')
        batch_op.drop_column('incentives')
        batch_op.drop_column('stage')
        batch_op.drop_column('cause_ref')

    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_days_past_due', sa.INTEGER(), nullable=False, server_default='0'))
        batch_op.alter_column('credit_limit_amount',
               existing_type=sa.BigInteger(),
               type_=sa.INTEGER(),
               existing_nullable=False)
        batch_op.drop_column('last_payment_on')
        batch_op.drop_column('last_order_on')
        batch_op.drop_column('first_purchase_on')
        batch_op.drop_column('broken_promise')
        batch_op.drop_column('receivable_class')
        batch_op.drop_column('has_payment_history')
        batch_op.drop_column('recommended_limit_amount')
        batch_op.drop_column('news_as_of')
        batch_op.drop_column('rated_worst_days')
        batch_op.drop_column('rated_as_of')
        batch_op.drop_column('dossier_version')
        batch_op.drop_column('documents')
        batch_op.drop_column('organisation')
        batch_op.drop_column('sales_ability')
        batch_op.drop_column('market_network')
        batch_op.drop_column('financial_status')
        batch_op.drop_column('address')

    with op.batch_alter_table('credit_check', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_check_customer_time')
        batch_op.create_index(batch_op.f('ix_credit_check_customer_id'), ['customer_id'], unique=False)
        batch_op.alter_column('max_amount',
               existing_type=sa.BigInteger(),
               type_=sa.INTEGER(),
               existing_nullable=True)
        batch_op.alter_column('amount',
               existing_type=sa.BigInteger(),
               type_=sa.INTEGER(),
               existing_nullable=False)
        batch_op.drop_column('rating_class')
        batch_op.drop_column('limit_amount')
        batch_op.drop_column('exposure')

    with op.batch_alter_table('balance_view', schema=None) as batch_op:
        batch_op.alter_column('overdue',
               existing_type=sa.BigInteger(),
               type_=sa.INTEGER(),
               existing_nullable=False)
        batch_op.alter_column('balance',
               existing_type=sa.BigInteger(),
               type_=sa.INTEGER(),
               existing_nullable=False)

    with op.batch_alter_table('reservation', schema=None) as batch_op:
        batch_op.drop_index('ix_reservation_open')

    op.drop_table('reservation')
    with op.batch_alter_table('rating', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rating_customer_id'))

    op.drop_table('rating')
    op.drop_table('purchase_month')
    with op.batch_alter_table('promise', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_promise_customer_id'))

    op.drop_table('promise')
    with op.batch_alter_table('payment_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_line_customer_id'))

    op.drop_table('payment_line')
    with op.batch_alter_table('invoice_view', schema=None) as batch_op:
        batch_op.drop_index('ix_invoice_view_customer')

    op.drop_table('invoice_view')
    with op.batch_alter_table('dossier_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dossier_change_customer_id'))

    op.drop_table('dossier_change')
    with op.batch_alter_table('dispute', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dispute_customer_id'))

    op.drop_table('dispute')
    op.drop_table('detection')
    with op.batch_alter_table('agreement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_customer_id'))

    op.drop_table('agreement')
