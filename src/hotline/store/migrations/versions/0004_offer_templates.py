"""Desktop: e-mail templates an operator sends a caller ("send offer"), per hotline.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "offer_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("hotline_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_offer_templates_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["hotline_id"],
            ["hotlines.id"],
            name=op.f("fk_offer_templates_hotline_id_hotlines"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_templates")),
    )
    op.create_index(op.f("ix_offer_templates_tenant_id"), "offer_templates", ["tenant_id"])
    op.create_index(op.f("ix_offer_templates_hotline_id"), "offer_templates", ["hotline_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_offer_templates_hotline_id"), table_name="offer_templates")
    op.drop_index(op.f("ix_offer_templates_tenant_id"), table_name="offer_templates")
    op.drop_table("offer_templates")
