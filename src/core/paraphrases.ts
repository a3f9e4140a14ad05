import type { RetrieveOptions, Retriever, ScoredPassage } from './retriever.ts';
import { containsCjk } from './tokenize.ts';

/**
 * How people ask, mapped to how texts usually say it: question wording on the left, the words to search for
 * as well on the right. Unlike the knowledge glossary (names and terms of one knowledge file, either
 * direction), this table is general: it holds no name and no fact, only everyday paraphrases ("started" a
 * company → "founded" it), irregular verb forms the stemmer cannot join ("built" → "build"), and common
 * Chinese question words whose English the glossary has no reason to list (模型 → model). Keep it small: each
 * row widens every matching search.
 */
const table: Array<[asked: string[], written: string[]]> = [
  [
    ['started', 'starts', 'set up', 'sets up', 'established', 'establish', 'created', 'creator', 'behind'],
    ['founded', 'founder'],
  ],
  [
    ['launch', 'launches', 'release', 'releases', 'introduce', 'introduced', 'unveil', 'unveiled'],
    ['launched', 'released'],
  ],
  [
    ['come out', 'came out', 'rolled out', 'put out', 'debut', 'debuted'],
    ['launched', 'released'],
  ],
  [['publish', 'published', 'post', 'posted', 'blog', 'blogged', 'write', 'writes', 'written'], ['wrote']],
  [['leadership', 'lead', 'leads'], ['leader']],
  [['firm', 'firms'], ['companies']],
  [['company', 'companies', 'business', 'businesses'], ['firms']],
  [
    ['fortune', 'wealth', 'wealthy', 'rich', 'riches'],
    ['billionaire', 'millionaire', 'wealth', 'fortune'],
  ],
  [['vc', 'vcs'], ['venture capital']],
  [
    ['newest', 'latest', 'most recent'],
    ['recent', 'latest', 'released'],
  ],
  [
    ['cutting-edge', 'top-end', 'high-end', 'state-of-the-art', 'leading-edge', 'sophisticated'],
    ['most advanced', 'advanced'],
  ],
  [['cheap', 'cheaper', 'cheaply', 'expensive', 'price', 'spent', 'spend'], ['cost']],
  [['valuation', 'value'], ['valued']],
  [['college', 'school'], ['university']],
  [
    ['america', 'american', 'americans', 'usa', 'u.s.'],
    ['US', 'United States'],
  ],
  [['west', 'westerners'], ['Western']],
  [
    ['catch up', 'caught up', 'close the gap', 'closed the gap', 'closing the gap'],
    ['gap', 'narrowed'],
  ],
  [
    ['compare', 'compared', 'comparison', 'stack up', 'measure up', 'versus', 'vs'],
    ['on a par', 'perform'],
  ],
  [['staff', 'employees', 'workforce'], ['team']],
  [['teach', 'taught', 'lecture', 'lectures'], ['teaches']],
  // Irregular verbs: the stemmer joins "founded" and "founding", not "build" and "built".
  ...irregular([
    ['build', 'built'],
    ['make', 'made'],
    ['win', 'won'],
    ['hold', 'held'],
    ['give', 'gave', 'given'],
    ['get', 'got', 'gotten'],
    ['pay', 'paid'],
    ['grow', 'grew', 'grown'],
    ['begin', 'began', 'begun'],
    ['become', 'became'],
    ['bring', 'brought'],
    ['buy', 'bought'],
    ['think', 'thought'],
    ['tell', 'told'],
    ['catch', 'caught'],
    ['sell', 'sold'],
    ['spend', 'spent'],
    ['raise', 'rose', 'risen'],
    ['lose', 'lost'],
    ['say', 'said'],
  ]),
  // Chinese question words the glossary of an English knowledge file need not list.
  [['模型'], ['model', 'models']],
  [
    ['设立', '建立', '设置'],
    ['set up', 'established'],
  ],
  [
    ['发财', '致富', '财富', '赚钱', '赚到钱', '暴富'],
    ['billionaire', 'millionaire', 'wealth', 'fortune'],
  ],
  [
    ['发布', '推出', '上线', '发表', '问世'],
    ['released', 'launched'],
  ],
  [['团队', '员工'], ['team']],
  [['大学', '高校', '学校'], ['university']],
  [['博士'], ['PhD']],
  [['硕士'], ["Master's"]],
  [['学生'], ['student']],
  [
    ['最新', '最近', '近期'],
    ['latest', 'recent'],
  ],
  [
    ['公司', '企业'],
    ['companies', 'firms'],
  ],
  [['教', '授课', '讲授'], ['teaches']],
  [['工作', '任职'], ['worked']],
  [
    ['写', '撰文', '发文', '文章', '帖子'],
    ['wrote', 'post'],
  ],
  [['平台'], ['platform']],
  [['年轻'], ['young']],
  [['成功'], ['success']],
  [['技术'], ['technology']],
];

/** Each form of an irregular verb asks for the others. */
function irregular(verbs: string[][]): Array<[string[], string[]]> {
  return verbs.flatMap((forms) =>
    forms.map((form): [string[], string[]] => [[form], forms.filter((f) => f !== form)]),
  );
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const compiled = table.map(([asked, written]) => ({
  written,
  // Latin wording as whole words ("lead" is not in "leader"), Chinese anywhere.
  patterns: asked.map((phrase) =>
    containsCjk(phrase)
      ? new RegExp(escapeRegExp(phrase), 'u')
      : new RegExp(`(?<![\\p{L}\\p{N}-])${escapeRegExp(phrase)}(?![\\p{L}\\p{N}-])`, 'iu'),
  ),
}));

/**
 * The wording texts use for what the question says in its own words, from the general table above, one list
 * per matching row (the alternatives for one meaning): extra search terms, never a replacement for the
 * question's own.
 */
export function paraphraseGroupsOf(question: string): string[][] {
  const normalized = question.normalize('NFKC');
  return compiled.flatMap(({ written, patterns }) =>
    patterns.some((pattern) => pattern.test(normalized)) ? [written] : [],
  );
}

/** All of `paraphraseGroupsOf` as one list of search terms. */
export function paraphrasesOf(question: string): string[] {
  return paraphraseGroupsOf(question).flat();
}

/**
 * Retrieves for a question, then again with its paraphrases added when it is in scope: paraphrases rank the
 * passages of a question the knowledge covers ("who started X?" reaches X's founder); they never decide
 * scope, as generic words ("公司", "price") would let unrelated questions in.
 */
export function retrieveWithParaphrases(
  retriever: Retriever,
  query: string,
  k: number,
  options: RetrieveOptions = {},
): ScoredPassage[] {
  const passages = retriever.retrievePassages(query, k, options);
  const paraphrases = paraphrasesOf(query);
  if (passages.length === 0 || paraphrases.length === 0) return passages;
  const widened = retriever.retrievePassages([query, ...paraphrases].join(' '), k, options);
  return widened.length > 0 ? widened : passages;
}
