import type { Catalog } from './shape.ts';

/** 破圈的中文。 */
export const zh: Catalog = {
  errors: {
    llm: {
      auth: '模型服务拒绝了 API 密钥，请管理员检查 LLM_API_KEY。',
      rate_limit: '模型服务当前限流，请一分钟后再试。',
      unavailable: '模型服务暂时不可用，请稍后再试。',
      timeout: '模型响应超时，请再试一次。',
      bad_request: '模型服务拒绝了请求，请管理员检查模型设置。',
      cut_off: '回答被模型服务中断了。',
      empty: '模型返回了空回答，请换个说法再问。',
    },
    llmRateLimitedFor: (seconds) => `模型服务当前限流，请在 ${seconds} 秒后再试。`,
    rateLimited: (seconds) => `提问太频繁了，请在 ${seconds} 秒后再试。`,
    budgetUser: (at) => `你今天的令牌额度已用完，将在 ${at} 重置。可用 /usage 查看用量。`,
    budgetBot: (at) => `本机器人今天的令牌额度已用完，所有人都要等到 ${at} 重置后才能继续提问。`,
    storeUnavailable: '存储暂时不可用，请稍后再试。',
    unexpected: '回答时出了点问题，已记录在日志中，请稍后再试。',
    unknownCommand: (name) => `没有 /${name} 这个命令，请查看 /help。`,
    unreadableOptions: (command) => `无法读取 ${command} 的选项，请查看 /help。`,
    missingOption: (command, option) => `${command} 需要填写“${option}”选项。`,
    optionTooLong: (command, option, maxLength) =>
      `${command} 的“${option}”选项太长了，最多 ${maxLength} 个字符。`,
    optionNotBoolean: (command, option) => `${command} 的“${option}”选项只能是 true 或 false。`,
    optionNotText: (command, option) => `${command} 的“${option}”选项必须是文字。`,
    optionInvalid: (command, option) => `${command} 的“${option}”选项无效，请查看 /help。`,
  },
  answers: {
    offlineIntro: '知识库中最相关的原文语句（离线模式，仅引用原文）：',
    offlineEnable:
      '_尚未配置模型，以上为原文摘录而非生成的回答。设置 `LLM_API_KEY`（默认使用 DeepSeek）即可获得完整回答。_',
    notCovered: (topic, examples) =>
      `知识库没有涉及这个问题。我只能回答关于${topic}的问题${examples ? `，例如 ${examples}` : ''}。`,
    knowledgeRunsTo: (date) => `知识库的内容截至${date}，不包含之后的事件。`,
    joinSentences: (first, second) => `${first}${second}`,
    date: (year, month, day) => `${year}年${month ? `${month}月` : ''}${day ? `${day}日` : ''}`,
    context: ({ mode, forced, passages, tokens, fits, budget, topK }) => {
      const size = `${passages} 段，全文约 ${tokens} tokens ${fits ? '≤' : '>'} 预算 ${budget}`;
      return mode === 'full'
        ? `全文上下文${forced}：${size}`
        : `检索模式，每个问题取前 ${topK} 段${forced}：${size}`;
    },
    stoppedNote: '机器人正在重启，回答被中断了，请稍后再问一次。',
    cutOffLead: '回答不完整：',
    thinking: '思考中…',
    reasoning: '思考过程',
    sources: '出处',
    handoff: (contact) => `没有解决你的问题？可以找 ${contact}，由人工来解答。`,
  },
  votes: {
    recorded: '感谢反馈！',
    changed: '已更改你的评价，谢谢！',
    unchanged: '你已经评价过这个回答了。',
    unknown_answer: '这个回答太久了，无法评价。',
    failed: '暂时无法记录你的评价，请稍后再试。',
  },
  commands: {
    askHint: '请在命令后写上问题，例如：`/ask DeepSeek的创始人是谁？`',
    usage: ({ answers, tokens, remaining, limit, botRemaining, resetsAt }) => [
      `**你今天的用量**（${resetsAt} 重置）`,
      `回答：${answers}`,
      `令牌：${tokens}`,
      remaining === undefined ? '个人额度：不限' : `个人额度剩余：${remaining} / ${limit}`,
      ...(botRemaining === undefined ? [] : [`机器人今日总额度剩余：${botRemaining}`]),
    ],
    stats: (f) => [
      '**用量与费用**',
      ...f.recent,
      '',
      `**使用情况**（启动 ${f.uptime} 以来）`,
      `提问：共 ${f.total}（${f.outcomes}）`,
      `平台：${f.platforms}`,
      `错误：${f.errors}`,
      `因频率限制拒绝：${f.rateLimited}；因令牌额度拒绝：${f.budgetRefused}`,
      `模型令牌：${f.tokens}`,
      `知识库：版本 ${f.knowledgeVersion}，共 ${f.passages} 段`,
    ],
    spend: ({ answers, tokens, cacheHits, cost, unpriced }) =>
      `回答 ${answers} · 令牌 ${tokens} · 缓存命中 ${cacheHits} · 费用 ${cost ?? '未知'}${unpriced ? `（另有 ${unpriced} 个回答价格未知）` : ''}`,
    recentSpend: (today, week, topUsers) => [
      `今天（UTC）：${today}`,
      `最近 7 天：${week}`,
      `令牌最多的用户（7 天，加盐哈希）：${topUsers ?? '无'}`,
    ],
    statsUnavailable: '每日数据暂时无法读取。',
    none: '无',
    noSources: '这里还没有带出处的回答。先问一个问题吧。',
    sourcesHeader: (question) => `上一个回答的出处（“${question}”）：`,
    passageRemoved: '（该段落已在知识库更新中移除）',
    knowledgeVersion: (version) => `知识库版本 ${version}`,
    reloadUnchanged: (version) => `知识库没有变化（版本 ${version}）。`,
    reloaded: (version, passages) => `知识库已重新加载：版本 ${version}，共 ${passages} 段。`,
    reloadFailed: (version, reason) => `重新加载失败，仍在使用版本 ${version}：${reason ?? '详情见日志'}`,
    about: ({ version, knowledgeVersion, passages, files, model, context }) => [
      `**破圈 Poquan** ${version}`,
      `知识库（版本 ${knowledgeVersion}，共 ${passages} 段）：`,
      ...files,
      `模型：${model ?? '未配置（离线模式：引用原文）'}`,
      `上下文：${context}`,
    ],
    passages: (count) => `${count} 段`,
    greeting: (passages) => `你好！我是**破圈 Poquan**，知识库共 ${passages} 段。`,
    reset: '好的，我已忘记之前的对话。',
    operatorsOnly: (name) => `抱歉，/${name} 仅限本机器人的管理员使用。`,
    helpIntro: (topic, examples) =>
      `我可以回答关于${topic}的问题${examples ? `，例如 ${examples}` : ''}。回答基于知识库，并以 [1]、[2] 标注出处。`,
    helpCommands: [
      '• `/sources` — 查看上一个回答引用的段落',
      '• `/reset` — 清除对话记忆',
      '• `/about` — 知识库、模型和版本',
      '• `/usage` — 你今天的回答数、令牌用量和剩余额度',
    ].join('\n'),
    helpOtherLanguage: 'You can also ask in English.',
    helpFirst: {
      telegram: '• `/ask <问题>` — 提问（私聊时直接发送问题即可）',
      discord:
        '• `/ask question:` — 提问（将 `private:` 设为 True 则只有你能看到回答）；私信中直接发送问题即可',
      cli: '• 输入问题后按回车',
    },
    helpAfter: {
      telegram:
        '在群组中，请使用 `/ask`、@我，或回复我的消息。Telegram 的群组隐私模式下，我只能看到命令、@我的消息和对我的回复，看不到其他聊天内容。',
      discord:
        '在服务器中，请使用 `/ask`、@我，或在回复我的回答时保持 @提及 开启；其他消息我一概不读。想就某条消息提问，可打开该消息的菜单：**应用 → 问破圈**。',
      cli: '`/exit` 结束对话；下次运行 `poquan chat` 时仍记得这段对话。',
    },
  },
  discord: {
    notAllowedHere: '此处未启用破圈。管理员可在 DISCORD_ALLOWED_GUILD_IDS 中允许本服务器。',
    restarting: '破圈正在重启，请稍后再问。',
    noTextInMessage: '这条消息里没有我能读取的文字。',
    mentionHint:
      '请在 @我 之后写上问题，例如“@Poquan DeepSeek 的创始人是谁？”。回复我的消息时请保持 @提及 开启，这样我才能读到内容——也可以使用 `/ask`。',
    interruptedByRestart: '⚠️ 破圈在完成这个回答之前重启了，现在已来不及补上。请重新提问。',
    unknownCommand: '我不认识这个命令，试试 `/help`。',
    askMenu: '问破圈',
    reasoningLabel: '思考过程：',
    sourcesLabel: '出处：',
  },
};
