/** A small REST client for seeding and the sequential measurements (fetch, keep-alive). */
export class Api {
  constructor(readonly base: string) {}

  async call(
    method: "GET" | "POST" | "DELETE",
    path: string,
    options: { body?: unknown; token?: string } = {},
  ): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = {};
    if (options.body !== undefined) headers["content-type"] = "application/json";
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body };
  }

  /** The call, or an error naming the endpoint and what it answered. */
  async expect<T>(
    method: "GET" | "POST" | "DELETE",
    path: string,
    status: number,
    options: { body?: unknown; token?: string } = {},
  ): Promise<T> {
    const result = await this.call(method, path, options);
    if (result.status !== status) {
      throw new Error(
        `${method} ${path} answered ${result.status} (expected ${status}): ${JSON.stringify(result.body).slice(0, 500)}`,
      );
    }
    return result.body as T;
  }
}

export interface TenantCreated {
  id: string;
  slug: string;
  admin_user_id: string;
}

export interface LoginAnswer {
  token: string;
  user: { id: string; tenant: string };
}

export interface InvitationCreated {
  id: string;
  token: string;
}

export interface UserAnswer {
  id: string;
  roles: string[];
}

export interface Assignment {
  id: string;
  user: string;
  role: string;
  tenant: string;
  granted_by: string | null;
  created_at: string;
}
