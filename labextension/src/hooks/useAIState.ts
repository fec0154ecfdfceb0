/** The AI models and policy for this user, fetched at start and refreshed every minute. */
import { useCallback, useEffect, useState } from 'react';
import { errorMessage, type AIPolicy, type IdeClient } from '../api/client';

const REFRESH_MS = 60_000;
const MODEL_KEY = 'jupyter-ide.ai.model';

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

function storedModel(): string | null {
  try {
    return window.localStorage.getItem(MODEL_KEY);
  } catch {
    return null;
  }
}

/** Load the models and the policy; keep the user's chosen model while it stays available. */
export function useAIState(client: IdeClient): AIState {
  const [models, setModels] = useState<string[]>([]);
  const [chosen, setChosen] = useState<string | null>(storedModel);
  const [policy, setPolicy] = useState<AIPolicy | null>(null);
  const [unavailable, setUnavailable] = useState<string | null>('Loading the assistant…');

  const refresh = useCallback(async () => {
    const [modelsResult, policyResult] = await Promise.allSettled([
      client.models(),
      client.aiPolicy(),
    ]);
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
  }, [client]);

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
