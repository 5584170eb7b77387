ALTER TABLE "path_tests" ADD COLUMN "follow_ups" jsonb;--> statement-breakpoint
ALTER TABLE "traces" ADD COLUMN "follow_ups" jsonb;