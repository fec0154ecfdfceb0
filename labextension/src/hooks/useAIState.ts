/** The AI models and policy for this user, fetched at start and refreshed every minute. */
import { useCallback, useEffect, useRef, useState } from 'react';
import { errorCode, errorMessage, type AIPolicy, type IdeClient } from '../api/client';

const REFRESH_MS = 60_000;
const MODEL_KEY = 'jupyter-ide.ai.model';
/** The server's answer when the course named is not one of the user's. */
export const NOT_A_MEMBER = 'not_a_member';

export interface AIState {
  /** Models usable now; empty when the AI is off or not configured. */
  models: string[];
  model: string | null;
  setModel: (model: string) => void;
  policy: AIPolicy | null;
  /** Why the assistant cannot be used, in words; null when it can. */
  unavailable: string | null;
  refresh: () => Promise<void>;
}

/** The course the state is for; nothing is asked before ``ready``. */
export interface AICourse {
  course: string | null;
  ready: boolean;
  /** Called when the server says the user is not in the course named. */
  onRefused?: () => void;
}

function storedModel(): string | null {
  try {
    return window.localStorage.getItem(MODEL_KEY);
  } catch {
    return null;
  }
}

/** Load the models and the policy (in the chosen course); keep the chosen model while it stays. */
export function useAIState(client: IdeClient, { course, ready, onRefused }: AICourse): AIState {
  const [models, setModels] = useState<string[]>([]);
  const [chosen, setChosen] = useState<string | null>(storedModel);
  const [policy, setPolicy] = useState<AIPolicy | null>(null);
  const [unavailable, setUnavailable] = useState<string | null>('Loading the assistant…');
  const generation = useRef(0);

  const refresh = useCallback(async () => {
    if (!ready) {
      return;
    }
    // ``course`` is what the client sends now; an answer for an earlier choice is dropped.
    const ticket = ++generation.current;
    const [modelsResult, policyResult] = await Promise.allSettled([
      client.models(),
      client.aiPolicy(),
    ]);
    if (ticket !== generation.current) {
      return;
    }
    const refusal = [modelsResult, policyResult].find((r) => r.status === 'rejected');
    if (refusal && (await errorCode(refusal.reason)) === NOT_A_MEMBER && course !== null) {
      onRefused?.();
    }
    const nextPolicy = policyResult.status === 'fulfilled' ? policyResult.value : null;
    setPolicy(nextPolicy);
    if (modelsResult.status === 'rejected') {
      setModels([]);
      setUnavailable(`The assistant is unavailable: ${await errorMessage(modelsResult.reason)}`);
      return;
    }
    setModels(modelsResult.value);
    if (nextPolicy?.mode === 'off') {
      setUnavailable('The assistant is off.');
    } else if (!modelsResult.value.length) {
      setUnavailable('No AI model is available on this server.');
    } else {
      setUnavailable(null);
    }
  }, [client, course, ready, onRefused]);

  useEffect(() => {
    void refresh();
    const timer = window.setInterval(() => void refresh(), REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [refresh]);

  const setModel = useCallback((model: string) => {
    setChosen(model);
    try {
      window.localStorage.setItem(MODEL_KEY, model);
    } catch {
      // Private windows may refuse storage; the choice then lasts for this page only.
    }
  }, []);

  const model = chosen && models.includes(chosen) ? chosen : (models[0] ?? null);
  return { models, model, setModel, policy, unavailable, refresh };
}
