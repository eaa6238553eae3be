/**
 * Reference tables of the demo country (Bulgaria): planning regions, district
 * centres, personal names and facility name parts. Everything the demo
 * generator needs to look plausible; none of it names a real person or facility.
 */

/** A NUTS-2 planning region; the order is the order in which a smaller demo keeps them. */
export interface DemoRegion {
  code: string;
  name: string;
  cyrillic: string;
}

export const REGIONS: readonly DemoRegion[] = [
  { code: 'BG41', name: 'Yugozapaden', cyrillic: 'Югозападен район' },
  { code: 'BG42', name: 'Yuzhen tsentralen', cyrillic: 'Южен централен район' },
  { code: 'BG33', name: 'Severoiztochen', cyrillic: 'Североизточен район' },
  { code: 'BG34', name: 'Yugoiztochen', cyrillic: 'Югоизточен район' },
  { code: 'BG32', name: 'Severen tsentralen', cyrillic: 'Северен централен район' },
  { code: 'BG31', name: 'Severozapaden', cyrillic: 'Северозападен район' },
];

/** A district (oblast) centre: the towns facilities and patients live in. */
export interface DemoCity {
  cyrillic: string;
  region: string;
  /** Two-digit district code, the first digits of facility codes and practitioner numbers. */
  district: string;
  postalCode: number;
  /** How many postal codes above `postalCode` the town spans. */
  postalSpread: number;
  /** Inhabitants, thousands (rounded): weights where facilities and patients are. */
  population: number;
  lat: number;
  lon: number;
}

export const CITIES: readonly DemoCity[] = [
  { cyrillic: 'София', region: 'BG41', district: '22', postalCode: 1000, postalSpread: 799, population: 1240, lat: 42.6977, lon: 23.3219 },
  { cyrillic: 'Перник', region: 'BG41', district: '14', postalCode: 2300, postalSpread: 4, population: 70, lat: 42.6052, lon: 23.0378 },
  { cyrillic: 'Кюстендил', region: 'BG41', district: '10', postalCode: 2500, postalSpread: 0, population: 42, lat: 42.2839, lon: 22.6911 },
  { cyrillic: 'Благоевград', region: 'BG41', district: '01', postalCode: 2700, postalSpread: 0, population: 66, lat: 42.0209, lon: 23.0943 },
  { cyrillic: 'Пловдив', region: 'BG42', district: '16', postalCode: 4000, postalSpread: 30, population: 345, lat: 42.1354, lon: 24.7453 },
  { cyrillic: 'Пазарджик', region: 'BG42', district: '13', postalCode: 4400, postalSpread: 0, population: 62, lat: 42.1928, lon: 24.3336 },
  { cyrillic: 'Смолян', region: 'BG42', district: '21', postalCode: 4700, postalSpread: 0, population: 25, lat: 41.5774, lon: 24.7011 },
  { cyrillic: 'Хасково', region: 'BG42', district: '26', postalCode: 6300, postalSpread: 0, population: 66, lat: 41.9344, lon: 25.5556 },
  { cyrillic: 'Кърджали', region: 'BG42', district: '09', postalCode: 6600, postalSpread: 0, population: 40, lat: 41.6338, lon: 25.3777 },
  { cyrillic: 'Варна', region: 'BG33', district: '03', postalCode: 9000, postalSpread: 30, population: 335, lat: 43.2141, lon: 27.9147 },
  { cyrillic: 'Добрич', region: 'BG33', district: '08', postalCode: 9300, postalSpread: 0, population: 80, lat: 43.5726, lon: 27.8273 },
  { cyrillic: 'Шумен', region: 'BG33', district: '27', postalCode: 9700, postalSpread: 0, population: 75, lat: 43.2706, lon: 26.9229 },
  { cyrillic: 'Търговище', region: 'BG33', district: '25', postalCode: 7700, postalSpread: 0, population: 34, lat: 43.2512, lon: 26.5722 },
  { cyrillic: 'Бургас', region: 'BG34', district: '02', postalCode: 8000, postalSpread: 20, population: 200, lat: 42.5048, lon: 27.4626 },
  { cyrillic: 'Стара Загора', region: 'BG34', district: '24', postalCode: 6000, postalSpread: 10, population: 125, lat: 42.4258, lon: 25.6345 },
  { cyrillic: 'Сливен', region: 'BG34', district: '20', postalCode: 8800, postalSpread: 0, population: 85, lat: 42.6817, lon: 26.3229 },
  { cyrillic: 'Ямбол', region: 'BG34', district: '28', postalCode: 8600, postalSpread: 0, population: 65, lat: 42.4842, lon: 26.5035 },
  { cyrillic: 'Русе', region: 'BG32', district: '18', postalCode: 7000, postalSpread: 20, population: 140, lat: 43.8356, lon: 25.9657 },
  { cyrillic: 'Велико Търново', region: 'BG32', district: '04', postalCode: 5000, postalSpread: 0, population: 65, lat: 43.0757, lon: 25.6172 },
  { cyrillic: 'Габрово', region: 'BG32', district: '07', postalCode: 5300, postalSpread: 0, population: 50, lat: 42.8742, lon: 25.3187 },
  { cyrillic: 'Разград', region: 'BG32', district: '17', postalCode: 7200, postalSpread: 0, population: 30, lat: 43.5258, lon: 26.5237 },
  { cyrillic: 'Силистра', region: 'BG32', district: '19', postalCode: 7500, postalSpread: 0, population: 32, lat: 44.1171, lon: 27.2606 },
  { cyrillic: 'Плевен', region: 'BG31', district: '15', postalCode: 5800, postalSpread: 0, population: 95, lat: 43.4170, lon: 24.6067 },
  { cyrillic: 'Враца', region: 'BG31', district: '06', postalCode: 3000, postalSpread: 0, population: 52, lat: 43.2102, lon: 23.5529 },
  { cyrillic: 'Ловеч', region: 'BG31', district: '11', postalCode: 5500, postalSpread: 0, population: 33, lat: 43.1370, lon: 24.7142 },
  { cyrillic: 'Монтана', region: 'BG31', district: '12', postalCode: 3400, postalSpread: 0, population: 38, lat: 43.4125, lon: 23.2250 },
  { cyrillic: 'Видин', region: 'BG31', district: '05', postalCode: 3700, postalSpread: 0, population: 42, lat: 43.9962, lon: 22.8679 },
];

export const MALE_GIVEN = [
  'Георги', 'Иван', 'Димитър', 'Николай', 'Петър', 'Христо', 'Стоян', 'Тодор', 'Александър', 'Васил', 'Атанас', 'Борис',
  'Калоян', 'Мартин', 'Стефан', 'Йордан', 'Любомир', 'Пламен', 'Кирил', 'Емил', 'Валентин', 'Красимир', 'Румен', 'Владимир',
  'Симеон', 'Антон', 'Костадин', 'Михаил', 'Ангел', 'Илия', 'Даниел', 'Виктор',
];
export const FEMALE_GIVEN = [
  'Мария', 'Иванка', 'Елена', 'Йорданка', 'Пенка', 'Даниела', 'Десислава', 'Виктория', 'Гергана', 'Надежда', 'Радка',
  'Цветелина', 'Снежана', 'Петя', 'Теодора', 'Анна', 'Ралица', 'Милена', 'Кристина', 'Симона', 'Николина', 'Стефка',
  'Валентина', 'Росица', 'Галина', 'Катерина', 'Борислава', 'Антония', 'Яна', 'Калина', 'Божидара', 'Мила',
];
/** Male family names; the female form adds -а (Иванов → Иванова). */
export const FAMILY = [
  'Иванов', 'Георгиев', 'Димитров', 'Петров', 'Николов', 'Христов', 'Стоянов', 'Тодоров', 'Илиев', 'Василев', 'Атанасов',
  'Петков', 'Ангелов', 'Колев', 'Йорданов', 'Маринов', 'Попов', 'Стефанов', 'Михайлов', 'Костов', 'Кръстев', 'Милев',
  'Павлов', 'Янков', 'Цветков', 'Добрев', 'Симеонов', 'Генов', 'Александров', 'Русев', 'Славов', 'Борисов', 'Киров',
  'Танев', 'Начев', 'Райчев', 'Денев', 'Вълчев', 'Желязков', 'Пеев',
];

/** The family-name form for a gender (Bulgarian surnames agree with it). */
export function familyFor(male: string, gender: 'male' | 'female'): string {
  return gender === 'female' && /(ов|ев|ин)$/.test(male) ? `${male}а` : male;
}

/** Patronymic (the middle name) from the father's given name: Иван → Иванов / Иванова. */
export function patronymic(fatherGiven: string, gender: 'male' | 'female'): string {
  const exceptions: Record<string, string> = { Васил: 'Василев', Михаил: 'Михайлов' };
  let stem = exceptions[fatherGiven];
  if (!stem) {
    if (fatherGiven.endsWith('ър')) stem = `${fatherGiven.slice(0, -2)}ров`; // Петър → Петров
    else if (fatherGiven.endsWith('й') || fatherGiven.endsWith('я')) stem = `${fatherGiven.slice(0, -1)}ев`; // Николай → Николаев, Илия → Илиев
    else if (fatherGiven.endsWith('и')) stem = `${fatherGiven}ев`; // Георги → Георгиев
    else if (fatherGiven.endsWith('о')) stem = `${fatherGiven}в`; // Христо → Христов
    else stem = `${fatherGiven}ов`;
  }
  return gender === 'female' ? `${stem}а` : stem;
}

export const STREETS = [
  'ул. „Васил Левски“', 'бул. „Цар Освободител“', 'ул. „Георги Раковски“', 'ул. „Христо Ботев“', 'ул. „Шипка“', 'бул. „България“',
  'ул. „Иван Вазов“', 'ул. „Гео Милев“', 'ул. „Александър Стамболийски“', 'ул. „Патриарх Евтимий“', 'ул. „Любен Каравелов“',
  'ул. „Оборище“', 'ул. „Граф Игнатиев“', 'ул. „Цар Симеон“', 'бул. „Априлско въстание“', 'ул. „Славянска“', 'ул. „Дунав“',
  'ул. „Родопи“', 'ул. „Пирин“', 'ул. „Стара планина“',
];

export const HOSPITAL_SAINTS = [
  'Св. Иван Рилски', 'Св. Анна', 'Св. Георги', 'Св. Марина', 'Св. Екатерина', 'Св. Пантелеймон', 'Св. Николай Чудотворец',
  'Св. Параскева', 'Св. Лазар', 'Св. Богородица', 'Св. Климент Охридски', 'Св. Наум',
];
export const PHARMACY_NAMES = [
  'Здраве', 'Лайка', 'Липа', 'Жива вода', 'Мента', 'Невен', 'Хигия', 'Асклепий', 'Синчец', 'Божур', 'Ружа', 'Виола', 'Детелина',
  'Здравец', 'Бриз', 'Ирис', 'Мащерка', 'Равнец', 'Бъз', 'Салвия',
];
export const LAB_NAMES = ['Биолаб', 'Хемолаб', 'Медилаб', 'Аналитика', 'Витало', 'Диагностика', 'Лаб Експрес', 'Хематест', 'Цитолаб', 'Медтест'];

/** Specialties an outpatient specialist practice offers, with their Bulgarian names (for facility names). */
export const OUTPATIENT_SPECIALTIES: Record<string, string> = {
  cardiology: 'кардиология',
  'internal-medicine': 'вътрешни болести',
  pediatrics: 'педиатрия',
  'obstetrics-gynecology': 'акушерство и гинекология',
  neurology: 'нервни болести',
  psychiatry: 'психиатрия',
  dermatology: 'кожни и венерически болести',
  ophthalmology: 'очни болести',
  otorhinolaryngology: 'ушно-носно-гърлени болести',
  orthopedics: 'ортопедия и травматология',
  endocrinology: 'ендокринология',
  pulmonology: 'пневмология и фтизиатрия',
  gastroenterology: 'гастроентерология',
  urology: 'урология',
  nephrology: 'нефрология',
  radiology: 'образна диагностика',
};

/** Hospital specialties with relative staff weights. */
export const HOSPITAL_SPECIALTIES: [string, number][] = [
  ['internal-medicine', 14], ['general-surgery', 10], ['anesthesiology', 9], ['emergency-medicine', 7], ['cardiology', 8],
  ['pediatrics', 7], ['obstetrics-gynecology', 7], ['neurology', 6], ['orthopedics', 6], ['radiology', 5], ['laboratory-medicine', 4],
  ['oncology', 4], ['pulmonology', 3], ['gastroenterology', 3], ['urology', 3], ['nephrology', 2], ['endocrinology', 2],
  ['ophthalmology', 2], ['otorhinolaryngology', 2], ['psychiatry', 2], ['dermatology', 1],
];

/** Hospital wards: Bulgarian name, v3-RoleCode type, the specialty that staffs it. */
export const WARDS: [string, string, string][] = [
  ['Спешно отделение', 'ER', 'emergency-medicine'],
  ['Отделение по вътрешни болести', 'HU', 'internal-medicine'],
  ['Отделение по хирургия', 'HU', 'general-surgery'],
  ['Отделение по кардиология', 'HU', 'cardiology'],
  ['Детско отделение', 'PEDU', 'pediatrics'],
  ['Родилно отделение', 'HU', 'obstetrics-gynecology'],
  ['Отделение по анестезиология и интензивно лечение', 'ICU', 'anesthesiology'],
  ['Отделение по неврология', 'HU', 'neurology'],
];

const TRANSLIT: Record<string, string> = {
  а: 'a', б: 'b', в: 'v', г: 'g', д: 'd', е: 'e', ж: 'zh', з: 'z', и: 'i', й: 'y', к: 'k', л: 'l', м: 'm', н: 'n', о: 'o', п: 'p',
  р: 'r', с: 's', т: 't', у: 'u', ф: 'f', х: 'h', ц: 'ts', ч: 'ch', ш: 'sh', щ: 'sht', ъ: 'a', ь: 'y', ю: 'yu', я: 'ya',
  '„': '"', '“': '"', '–': '-',
};

/**
 * Bulgarian Cyrillic to Latin by the official streamlined system (Transliteration Act 2009):
 * щ → sht, ъ → a, and -ия at the end of a word → -ia (Мария → Maria, София → Sofia).
 */
const transliterated = new Map<string, string>();

export function transliterate(text: string): string {
  let cached = transliterated.get(text);
  if (cached === undefined) {
    cached = transliterateUncached(text);
    if (transliterated.size < 10_000) transliterated.set(text, cached);
  }
  return cached;
}

function transliterateUncached(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    const lower = ch.toLowerCase();
    let latin: string;
    const wordEnd = i + 2 >= text.length || !/[а-яА-Я]/.test(text[i + 2]);
    if (lower === 'и' && text[i + 1]?.toLowerCase() === 'я' && wordEnd) {
      latin = 'ia';
      i++;
    } else {
      latin = TRANSLIT[lower] ?? ch;
    }
    out += ch !== lower && latin.length > 0 ? latin[0].toUpperCase() + latin.slice(1) : latin;
  }
  return out;
}
