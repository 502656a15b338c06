"""Telephony: versioned IVR flows, SIP trunks, operators' SIP phone credentials.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 15:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("sip_ha1", sa.String(length=64), nullable=True))
    op.create_table(
        "flows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("hotline_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", _JSON, nullable=False),
        sa.Column("comment", sa.String(length=500), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_flows_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["hotline_id"],
            ["hotlines.id"],
            name=op.f("fk_flows_hotline_id_hotlines"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_flows_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flows")),
        sa.UniqueConstraint("hotline_id", "version", name=op.f("uq_flows_hotline_id")),
    )
    op.create_index(op.f("ix_flows_tenant_id"), "flows", ["tenant_id"])
    op.create_index(op.f("ix_flows_hotline_id"), "flows", ["hotline_id"])
    op.create_table(
        "sip_trunks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("sip_ha1", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sip_trunks")),
        sa.UniqueConstraint("name", name=op.f("uq_sip_trunks_name")),
        sa.UniqueConstraint("username", name=op.f("uq_sip_trunks_username")),
    )


def downgrade() -> None:
    op.drop_table("sip_trunks")
    op.drop_index(op.f("ix_flows_hotline_id"), table_name="flows")
    op.drop_index(op.f("ix_flows_tenant_id"), table_name="flows")
    op.drop_table("flows")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("sip_ha1")
