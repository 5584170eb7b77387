CREATE TABLE "agents" (
	"id" text PRIMARY KEY NOT NULL,
	"region" text NOT NULL,
	"role" text NOT NULL,
	"version" text NOT NULL,
	"addresses" jsonb NOT NULL,
	"capabilities" jsonb NOT NULL,
	"counters" jsonb,
	"running" integer DEFAULT 0 NOT NULL,
	"first_seen" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen" timestamp with time zone NOT NULL,
	"online" boolean NOT NULL
);
--> statement-breakpoint
CREATE TABLE "measurements" (
	"id" text PRIMARY KEY NOT NULL,
	"target" text NOT NULL,
	"options" jsonb NOT NULL,
	"status" text NOT NULL,
	"client" text,
	"created" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "path_tests" (
	"id" text PRIMARY KEY NOT NULL,
	"status" text NOT NULL,
	"options" jsonb NOT NULL,
	"forward_trace_id" text,
	"reverse_trace_id" text,
	"comparison" jsonb,
	"created" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "traces" (
	"id" text PRIMARY KEY NOT NULL,
	"measurement_id" text NOT NULL,
	"agent_id" text NOT NULL,
	"target" text NOT NULL,
	"address" text,
	"status" text NOT NULL,
	"failure" jsonb,
	"hops" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"stopped_by" text,
	"diagnosis" jsonb,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"result_at" timestamp with time zone,
	"created" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "path_tests" ADD CONSTRAINT "path_tests_forward_trace_id_traces_id_fk" FOREIGN KEY ("forward_trace_id") REFERENCES "public"."traces"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "path_tests" ADD CONSTRAINT "path_tests_reverse_trace_id_traces_id_fk" FOREIGN KEY ("reverse_trace_id") REFERENCES "public"."traces"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "traces" ADD CONSTRAINT "traces_measurement_id_measurements_id_fk" FOREIGN KEY ("measurement_id") REFERENCES "public"."measurements"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "measurements_created_idx" ON "measurements" USING btree ("created");--> statement-breakpoint
CREATE INDEX "path_tests_created_idx" ON "path_tests" USING btree ("created");--> statement-breakpoint
CREATE INDEX "traces_measurement_idx" ON "traces" USING btree ("measurement_id");--> statement-breakpoint
CREATE INDEX "traces_agent_status_idx" ON "traces" USING btree ("agent_id","status");--> statement-breakpoint
CREATE INDEX "traces_created_idx" ON "traces" USING btree ("created");