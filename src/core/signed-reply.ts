// Which provider a signed reply goes back to. A turn keeps its reasoning (thinking blocks with their
// signatures, Gemini parts with thoughtSignature) only for the endpoint and model that made it: after /model
// or /auth switched to another, that one would refuse a signature it cannot check, so it gets the text.
import {
  type JsonObject,
  type Message,
  normalizedBaseUrl,
  type ReplyOrigin,
  type ResolvedModel,
} from './types.ts';

export function replyOriginOf(target: ResolvedModel): ReplyOrigin {
  return { protocol: target.protocol, baseUrl: normalizedBaseUrl(target.baseUrl), model: target.model };
}

/** The message's reply as its provider sent it, when `target` is that provider; undefined otherwise. */
export function signedPartsFor(message: Message, target: ResolvedModel): readonly JsonObject[] | undefined {
  const reply = message.signedReply;
  if (reply === undefined) return undefined;
  const { origin } = reply;
  const here = replyOriginOf(target);
  const same =
    origin.protocol === here.protocol && origin.baseUrl === here.baseUrl && origin.model === here.model;
  return same ? reply.parts : undefined;
}
