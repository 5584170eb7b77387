ALTER TABLE "traces" ADD COLUMN "nat" jsonb;--> statement-breakpoint
ALTER TABLE "traces" ADD COLUMN "record_route" jsonb;