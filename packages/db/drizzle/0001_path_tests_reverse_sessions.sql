CREATE TABLE "reverse_sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"token_hash" text NOT NULL,
	"status" text NOT NULL,
	"server" jsonb NOT NULL,
	"via" text,
	"options" jsonb NOT NULL,
	"customer_address" text,
	"customer_agent_id" text,
	"expires_at" timestamp with time zone NOT NULL,
	"joined_at" timestamp with time zone,
	"ended_at" timestamp with time zone,
	"created" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "path_tests" ADD COLUMN "a" text;--> statement-breakpoint
ALTER TABLE "path_tests" ADD COLUMN "b" jsonb;--> statement-breakpoint
ALTER TABLE "path_tests" ADD COLUMN "a_address" text;--> statement-breakpoint
ALTER TABLE "path_tests" ADD COLUMN "b_address" text;--> statement-breakpoint
ALTER TABLE "path_tests" ADD COLUMN "note" text;--> statement-breakpoint
ALTER TABLE "path_tests" ADD COLUMN "session_id" text;--> statement-breakpoint
CREATE INDEX "reverse_sessions_status_idx" ON "reverse_sessions" USING btree ("status");--> statement-breakpoint
CREATE INDEX "path_tests_session_idx" ON "path_tests" USING btree ("session_id");