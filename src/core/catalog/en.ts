import { monthNames } from '../month-names.ts';
import type { Catalog } from './shape.ts';

/** Poquan in English. */
export const en: Catalog = {
  errors: {
    llm: {
      auth: 'The model provider rejected the API key. The operator needs to check LLM_API_KEY.',
      rate_limit: 'The model provider is rate-limiting me right now. Please try again in a minute.',
      unavailable: 'The model provider is unavailable at the moment. Please try again shortly.',
      timeout: 'The model took too long to answer. Please try again.',
      bad_request: 'The model provider refused the request. The operator should check the model settings.',
      cut_off: 'The answer was cut off by the model provider.',
      empty: 'The model returned an empty answer. Please try rephrasing the question.',
    },
    llmRateLimitedFor: (seconds) =>
      `The model provider is rate-limiting me. Please try again in ${seconds} s.`,
    rateLimited: (seconds) => `You're asking faster than I can answer. Please try again in ${seconds} s.`,
    budgetUser: (at) =>
      `You have used up your token budget for today. It resets at ${at}; see /usage for your figures.`,
    budgetBot: (at) =>
      `This bot has used up its token budget for today. Questions are accepted again after the reset at ${at}.`,
    storeUnavailable: 'My memory store is unavailable; please try again shortly.',
    unexpected: 'Something went wrong on my side while answering. It has been logged; please try again.',
    unknownCommand: (name) => `There is no /${name} command. See /help.`,
    unreadableOptions: (command) => `I couldn't read the options of ${command}. See /help.`,
    missingOption: (command, option) => `${command} needs the "${option}" option.`,
    optionTooLong: (command, option, maxLength) =>
      `The "${option}" option of ${command} is too long: at most ${new Intl.NumberFormat('en').format(maxLength)} characters.`,
    optionNotBoolean: (command, option) => `The "${option}" option of ${command} must be true or false.`,
    optionNotText: (command, option) => `The "${option}" option of ${command} must be text.`,
    optionInvalid: (command, option) => `The "${option}" option of ${command} is not valid. See /help.`,
  },
  answers: {
    offlineIntro: 'From the knowledge file (offline mode, quoting the most relevant sentences):',
    offlineEnable:
      '_No model is configured, so these are quotes, not a written answer. Set `LLM_API_KEY` (DeepSeek by default) to get one._',
    notCovered: (topic, examples) =>
      `The knowledge file doesn't cover that. I can answer questions about ${topic}${examples ? `, such as ${examples}` : ''}.`,
    knowledgeRunsTo: (date) => `The knowledge file runs to ${date}; it has nothing on later events.`,
    joinSentences: (first, second) => `${first} ${second}`,
    date: (year, month, day) =>
      [day ? String(day) : '', month ? (monthNames[month - 1] ?? '') : '', year].filter(Boolean).join(' '),
    context: ({ mode, forced, passages, tokens, fits, budget, topK }) => {
      const size = `${passages} passages, ~${tokens} tokens ${fits ? '≤' : '>'} budget ${budget}`;
      return mode === 'full'
        ? `full context${forced}: ${size}`
        : `retrieval, top ${topK} passages per question${forced}: ${size}`;
    },
    stoppedNote: 'The answer was cut off because I am restarting; please ask again in a moment.',
    cutOffLead: 'The answer was cut off: ',
    thinking: 'Thinking…',
    reasoning: 'Reasoning',
    sources: 'Sources',
    handoff: (contact) => `Not what you needed? Ask ${contact} — a person can help.`,
  },
  votes: {
    recorded: 'Thanks for the feedback!',
    changed: 'Vote changed. Thanks!',
    unchanged: 'You already rated this answer.',
    unknown_answer: 'This answer is too old to rate.',
    failed: "I couldn't record your vote. Please try again later.",
  },
  commands: {
    askHint: 'Please add a question after the command, for example: `/ask Who founded DeepSeek?`',
    usage: ({ answers, tokens, remaining, limit, botRemaining, resetsAt }) => [
      `**Your usage today** (resets at ${resetsAt})`,
      `Answers: ${answers}`,
      `Tokens: ${tokens}`,
      remaining === undefined ? 'Your budget: no limit' : `Your budget left: ${remaining} of ${limit} tokens`,
      ...(botRemaining === undefined ? [] : [`Left for everyone today: ${botRemaining} tokens`]),
    ],
    stats: (f) => [
      '**Usage and cost**',
      ...f.recent,
      '',
      `**Usage** since start (${f.uptime} ago)`,
      `Questions: ${f.total} (${f.outcomes})`,
      `Platforms: ${f.platforms}`,
      `Errors: ${f.errors}`,
      `Refused by the rate limit: ${f.rateLimited}; by a token budget: ${f.budgetRefused}`,
      `Model tokens: ${f.tokens}`,
      `Knowledge: version ${f.knowledgeVersion}, ${f.passages} passages`,
    ],
    spend: ({ answers, tokens, cacheHits, cost, unpriced }) =>
      `answers ${answers} · tokens ${tokens} · cache hits ${cacheHits} · cost ${cost ?? 'unknown'}${unpriced ? ` (+${unpriced} at an unknown price)` : ''}`,
    recentSpend: (today, week, topUsers) => [
      `Today (UTC): ${today}`,
      `Last 7 days: ${week}`,
      `Top users by tokens (7 days, salted hashes): ${topUsers ?? 'none'}`,
    ],
    statsUnavailable: 'Daily figures are unavailable right now.',
    none: 'none',
    noSources: 'No answer with sources here yet. Ask me something first.',
    sourcesHeader: (question) => `Sources of the last answer ("${question}"):`,
    passageRemoved: '(passage removed by a knowledge update)',
    knowledgeVersion: (version) => `Knowledge version ${version}`,
    reloadUnchanged: (version) => `Knowledge unchanged (version ${version}).`,
    reloaded: (version, passages) => `Knowledge reloaded: version ${version}, ${passages} passages.`,
    reloadFailed: (version, reason) =>
      `Reload failed; still on version ${version}: ${reason ?? 'see the log'}`,
    about: ({ version, knowledgeVersion, passages, files, model, context }) => [
      `**Poquan** (破圈) ${version}`,
      `Knowledge (version ${knowledgeVersion}, ${passages} passages):`,
      ...files,
      `Model: ${model ?? 'none configured (offline mode: quotes passages)'}`,
      `Context: ${context}`,
    ],
    passages: (count) => `${count} passages`,
    greeting: (passages) => `Hi! I'm **Poquan** (破圈), with ${passages} passages of knowledge.`,
    reset: "Done — I've forgotten this conversation.",
    operatorsOnly: (name) => `Sorry, /${name} is only for this bot's operators.`,
    helpIntro: (topic, examples) =>
      `Ask me about ${topic}${examples ? ` — for example ${examples}` : ''}. I answer from my knowledge file and cite the passages as [1], [2].`,
    helpCommands: [
      '• `/sources` — the passages behind my last answer',
      '• `/reset` — forget our conversation',
      '• `/about` — knowledge files, model and version',
      '• `/usage` — your answers and tokens today, and what is left of your budget',
    ].join('\n'),
    helpOtherLanguage: 'I answer in the language you ask in: 也可以用中文提问。',
    helpFirst: {
      telegram: '• `/ask <question>` — ask a question (in a private chat, just type it)',
      discord:
        '• `/ask question:` — ask a question (set `private:` True so only you see the answer); in a DM with me, just type it',
      cli: '• type a question and press Enter',
    },
    helpAfter: {
      telegram:
        'In groups, use `/ask`, mention me, or reply to one of my messages. On Telegram, group privacy mode means I only see commands, mentions and replies to me — other chatter never reaches me.',
      discord:
        'In a server, use `/ask`, mention me, or reply to one of my answers with the @mention left on; I never read other messages. To ask about any message, open its menu: **Apps → Ask Poquan**.',
      cli: '`/exit` ends the chat; the conversation is remembered for the next `poquan chat`.',
    },
  },
  discord: {
    notAllowedHere:
      "Poquan isn't enabled here. The operator can allow this server in DISCORD_ALLOWED_GUILD_IDS.",
    restarting: 'Poquan is restarting. Please ask again in a moment.',
    noTextInMessage: 'That message has no text I can read.',
    mentionHint:
      'Ask me a question after the mention, for example “@Poquan Who founded DeepSeek?”. When you reply to one of my answers, keep the @mention switched on so I can read your message — or use `/ask`.',
    interruptedByRestart:
      '⚠️ Poquan restarted before it could finish this answer, and it is too late to finish it now. Please ask again.',
    unknownCommand: "I don't know that command. Try `/help`.",
    askMenu: 'Ask Poquan',
    reasoningLabel: 'Reasoning:',
    sourcesLabel: 'Sources:',
  },
};
