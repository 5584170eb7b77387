CREATE TABLE "api_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"secret_hash" text NOT NULL,
	"scopes" jsonb NOT NULL,
	"label" text,
	"created" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" text PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"client_address" text,
	"client_key" text NOT NULL,
	"key_id" text,
	"target" text NOT NULL,
	"address" text NOT NULL,
	"pops" jsonb NOT NULL,
	"probe_rate" integer NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"measurement_id" text
);
--> statement-breakpoint
CREATE TABLE "opt_out" (
	"cidr" text PRIMARY KEY NOT NULL,
	"reason" text,
	"created" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "audit_log_at_idx" ON "audit_log" USING btree ("at");--> statement-breakpoint
CREATE INDEX "audit_log_address_idx" ON "audit_log" USING btree ("address","ends_at");--> statement-breakpoint
CREATE INDEX "audit_log_client_idx" ON "audit_log" USING btree ("client_key","at");