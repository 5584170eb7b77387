CREATE TABLE "alerts" (
	"id" text PRIMARY KEY NOT NULL,
	"monitor_id" text NOT NULL,
	"rule" text NOT NULL,
	"subject" text NOT NULL,
	"status" text NOT NULL,
	"fired_at" timestamp with time zone NOT NULL,
	"resolved_at" timestamp with time zone,
	"evidence" jsonb NOT NULL,
	"resolve_evidence" jsonb,
	"link" text,
	"resolve_link" text,
	"delivery" text
);
--> statement-breakpoint
CREATE TABLE "monitor_samples" (
	"monitor_id" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"subject" text NOT NULL,
	"trace_id" text NOT NULL,
	"ttl" integer NOT NULL,
	"host" text,
	"asn" integer,
	"loss_pct" real NOT NULL,
	"avg" real NOT NULL,
	"best" real NOT NULL,
	"worst" real NOT NULL,
	"sent" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "monitors" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"spec" jsonb NOT NULL,
	"rules" jsonb NOT NULL,
	"every_seconds" integer NOT NULL,
	"webhook" text,
	"next_run" timestamp with time zone NOT NULL,
	"lease_owner" text,
	"lease_until" timestamp with time zone,
	"state" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"last_run_at" timestamp with time zone,
	"runs" integer DEFAULT 0 NOT NULL,
	"created" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "alerts_monitor_idx" ON "alerts" USING btree ("monitor_id","fired_at");--> statement-breakpoint
CREATE INDEX "alerts_fired_idx" ON "alerts" USING btree ("fired_at");--> statement-breakpoint
CREATE UNIQUE INDEX "alerts_one_firing_idx" ON "alerts" USING btree ("monitor_id","rule","subject") WHERE "alerts"."status" = 'firing';--> statement-breakpoint
CREATE INDEX "monitor_samples_monitor_at_idx" ON "monitor_samples" USING btree ("monitor_id","at");--> statement-breakpoint
CREATE INDEX "monitor_samples_at_idx" ON "monitor_samples" USING btree ("at");--> statement-breakpoint
CREATE INDEX "monitors_next_run_idx" ON "monitors" USING btree ("next_run");