ALTER TABLE "traces" ALTER COLUMN "agent_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "reverse_sessions" ADD COLUMN "link_opened_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "reverse_sessions" ADD COLUMN "upload_trace_id" text;--> statement-breakpoint
ALTER TABLE "traces" ADD COLUMN "origin" text DEFAULT 'agent' NOT NULL;--> statement-breakpoint
ALTER TABLE "traces" ADD COLUMN "upload" jsonb;