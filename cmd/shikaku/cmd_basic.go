package main

import (
	"context"
	"fmt"

	"shikaku"
	"shikaku/csvin"
)

func init() {
	register(command{"init", "データベースのスキーマを作成・更新します", runInit})
	register(command{"import", "加入者（members）・事業所（employers）のファイルを取り込みます", runImport})
	register(command{"extract", "キャンペーン設定を登録し、加入者全員の送付対象を判定します", runExtract})
	register(command{"crossmatch", "資格喪失者データと突合します", runCrossMatch})
	register(command{"pack", "資格確認書・封筒・お問い合わせ番号・送付回を確定します", runPack})
	register(command{"export", "判定結果・封筒・対象者一覧表・集計をフォルダに出力します", runExport})
}

// csvFlags adds the options of commands that read a CSV file.
func (f *flags) csvFlags() func() (csvin.Options, error) {
	enc := f.String("encoding", "auto", "文字コード: auto、utf-8、sjis")
	allow := f.Bool("allow-unknown-columns", false, "知らない列を無視する")
	return func() (csvin.Options, error) { return csvOptions(*enc, *allow) }
}

func csvOptions(enc string, allow bool) (csvin.Options, error) {
	e, err := csvin.ParseEncoding(enc)
	if err != nil {
		return csvin.Options{}, usageError{err.Error()}
	}
	return csvin.Options{Encoding: e, AllowUnknownColumns: allow}, nil
}

// store opens the database of --db.
func (f *flags) store(ctx context.Context) (shikaku.Store, error) {
	return openStore(ctx, dbURL(*f.db))
}

// withCampaign opens the database and runs fn on the campaign that
// --branch (or the only campaign) names.
func (f *flags) withCampaign(ctx context.Context, fn func(s shikaku.Store, branch string) error) error {
	s, err := f.store(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	branch, err := campaignBranch(ctx, s, *f.branch)
	if err != nil {
		return err
	}
	return fn(s, branch)
}

func runInit(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "init", "init [--db URL]")
	if _, err := f.parse(args); err != nil {
		return err
	}
	s, err := f.store(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Fprintf(e.stdout, "データベース %s を準備しました\n", redact(dbURL(*f.db)))
	return nil
}

func runImport(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "import", "import members|employers FILE [--encoding auto|utf-8|sjis]")
	options := f.csvFlags()
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || pos[0] != "members" && pos[0] != "employers" {
		return usagef("使い方: shikaku import members FILE または shikaku import employers FILE")
	}
	opt, err := options()
	if err != nil {
		return err
	}
	s, err := f.store(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	if pos[0] == "members" {
		_, err = stepImportMembers(ctx, e, s, pos[1], opt)
	} else {
		_, err = stepImportEmployers(ctx, e, s, pos[1], opt)
	}
	return err
}

func runExtract(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "extract", "extract --campaign FILE")
	campaign := f.String("campaign", "", "キャンペーン設定ファイル（TOML）")
	if _, err := f.parse(args); err != nil {
		return err
	}
	if *campaign == "" {
		return usagef("--campaign でキャンペーン設定ファイルを指定してください")
	}
	s, err := f.store(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	_, _, err = stepExtract(ctx, e, s, *campaign)
	return err
}

func runCrossMatch(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "crossmatch", "crossmatch FILE [--encoding auto|utf-8|sjis]")
	options := f.csvFlags()
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("使い方: shikaku crossmatch 資格喪失者データ.csv")
	}
	opt, err := options()
	if err != nil {
		return err
	}
	return f.withCampaign(ctx, func(s shikaku.Store, branch string) error {
		_, err := stepCrossMatch(ctx, e, s, branch, pos[0], opt)
		return err
	})
}

func runPack(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "pack", "pack")
	if _, err := f.parse(args); err != nil {
		return err
	}
	return f.withCampaign(ctx, func(s shikaku.Store, branch string) error {
		_, err := stepPack(ctx, e, s, branch)
		return err
	})
}

func runExport(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "export", "export DIR [--no-pdf] [--vendor-encoding utf-8|sjis]")
	po := f.printFlags()
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("使い方: shikaku export 出力先フォルダ")
	}
	return f.withCampaign(ctx, func(s shikaku.Store, branch string) error {
		_, err := stepExport(ctx, e, s, branch, pos[0], po)
		return err
	})
}
