"""Reports: KPI interval rollups, and the external id of imported interactions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_COUNTS = (
    "offered",
    "answered",
    "answered_within",
    "abandoned",
    "short_abandoned",
    "abandoned_within",
    "callback_requested",
    "overflowed",
)
_SUMS = ("answered_wait_sum", "abandoned_wait_sum")
_HANDLED = ("talk_sum", "hold_sum", "wrap_up_sum")


def upgrade() -> None:
    with op.batch_alter_table("interactions") as batch:
        batch.add_column(sa.Column("external_id", sa.String(length=200), nullable=True))
        batch.create_unique_constraint("uq_interactions_external_id", ["tenant_id", "external_id"])
    op.create_table(
        "kpi_rollups",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("hotline_id", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.Integer(), nullable=False),
        sa.Column("interval_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer_within", sa.Double(), nullable=False),
        sa.Column("short_abandon", sa.Double(), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in _COUNTS),
        *(sa.Column(name, sa.Double(), nullable=False) for name in _SUMS),
        sa.Column("max_wait", sa.Double(), nullable=True),
        sa.Column("handled", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Double(), nullable=False) for name in _HANDLED),
        sa.Column("csat_count", sa.Integer(), nullable=False),
        sa.Column("csat_sum", sa.Double(), nullable=False),
        sa.Column("csat_satisfied", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_kpi_rollups_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["hotline_id"],
            ["hotlines.id"],
            name=op.f("fk_kpi_rollups_hotline_id_hotlines"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["queue_id"],
            ["queues.id"],
            name=op.f("fk_kpi_rollups_queue_id_queues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id",
            "dimension",
            "quarter",
            "hotline_id",
            "queue_id",
            "value",
            "answer_within",
            "short_abandon",
            name=op.f("pk_kpi_rollups"),
        ),
        sqlite_with_rowid=False,
    )
    op.create_index(op.f("ix_kpi_rollups_queue_id"), "kpi_rollups", ["queue_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_kpi_rollups_queue_id"), table_name="kpi_rollups")
    op.drop_table("kpi_rollups")
    with op.batch_alter_table("interactions") as batch:
        batch.drop_constraint("uq_interactions_external_id", type_="unique")
        batch.drop_column("external_id")
