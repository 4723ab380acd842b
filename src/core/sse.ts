/** One server-sent event: `event` defaults to "message", several data lines are joined with "\n". */
export interface SseMessage {
  event: string;
  data: string;
  id?: string;
}
