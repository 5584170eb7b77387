/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Child } from "hono/jsx";
import { Layout } from "./components/layout";

/** A page-sized message (404, dependency down) in the site's shell. */
export function MessagePage(props: { title: string; children?: Child }) {
  return (
    <Layout title={props.title}>
      <section class="card message">
        <h1>{props.title}</h1>
        {props.children}
        <p>
          <a href="/">Start a new measurement</a>
        </p>
      </section>
    </Layout>
  );
}
